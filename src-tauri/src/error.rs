//! The one error every command returns: `{code, message}` in JSON. `code` is stable snake_case
//! (the UI picks its own text by it and the end-to-end tests match on it); `message` is for logs.
//! The codes are the client's (`ClientError::code`: the rule codes of `core`, `network_failed`,
//! `signed_out`, the server's own codes such as `meetup_ended`) plus the few the shell adds here.

use mingizuk_client::ClientError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError { code: code.to_owned(), message: message.into() }
    }

    /// A meetup command while no account is signed in.
    pub fn signed_out() -> AppError {
        AppError::from(ClientError::SignedOut)
    }
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> AppError {
        AppError { code: e.code().to_owned(), message: e.to_string() }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

/// What every command returns.
pub type CommandResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use mingizuk_client::core::RuleError;
    use serde_json::json;

    use super::*;

    #[test]
    fn an_error_serializes_as_code_and_message_only() {
        let error = AppError::from(ClientError::Rule(RuleError::TooManyActions { max: 5 }));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({ "code": "routine_too_many_actions", "message": "a routine has at most 5 actions" })
        );
    }

    #[test]
    fn client_errors_keep_their_stable_codes() {
        let cases = [
            (ClientError::Network("connection refused".into()), "network_failed"),
            (ClientError::SignedOut, "signed_out"),
            (ClientError::UnsyncedChanges, "unsynced_changes"),
            (ClientError::Invalid("bad".into()), "invalid_input"),
            (ClientError::Server { status: 422, code: "meetup_ended".into(), message: "ended".into() }, "meetup_ended"),
            (ClientError::Rule(RuleError::NameTooLong { max: 30 }), "routine_name_too_long"),
        ];
        for (error, code) in cases {
            assert_eq!(AppError::from(error).code, code);
        }
    }
}
