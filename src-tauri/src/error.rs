//! The one error every command returns: `{code, message}` in JSON. `code` is stable snake_case
//! (the UI picks its own text by it and the end-to-end tests match on it); `message` is for logs.
//! The codes are the client's (`ClientError::code`: the rule codes of `core`, `network_failed`,
//! `signed_out`, the server's own codes such as `meetup_ended`) plus the few the shell adds here.
//! A refused import (`invalid_import`) adds `reason` (`core::export::ImportReason`, stable
//! snake_case) and `details` (what the refusal names, as values): the UI words the refusal in the
//! user's language from those, never from the English `message`.

use mingizuk_client::ClientError;
use mingizuk_client::core::export::ImportDetails;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub code: String,
    pub message: String,
    /// Why an import was refused; absent from every other error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// What a refused import names (a routine, a date, a version, a limit); with `reason` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<ImportDetails>,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError { code: code.to_owned(), message: message.into(), reason: None, details: None }
    }

    /// A meetup command while no account is signed in.
    pub fn signed_out() -> AppError {
        AppError::from(ClientError::SignedOut)
    }
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> AppError {
        let refusal = e.import_refusal();
        AppError {
            code: e.code().to_owned(),
            message: e.to_string(),
            reason: refusal.map(|r| r.reason.as_str()),
            details: refusal.map(|r| r.details.clone()),
        }
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
    use mingizuk_client::core::export::{ImportReason, ImportRefusal};
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
    fn a_refused_import_adds_its_reason_and_what_it_names() {
        let refusal = ImportRefusal::new(ImportReason::BadName, "routine 7 has a name of 1–30 characters");
        let error = AppError::from(ClientError::Rule(refusal.routine(Some("아침 스트레칭")).max(30).into()));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({
                "code": "invalid_import",
                "message": "routine 7 has a name of 1–30 characters",
                "reason": "bad_name",
                "details": { "routine": "아침 스트레칭", "max": 30 },
            })
        );
        let late = ImportRefusal::new(ImportReason::FutureDate, "late").date("2999-01-01".parse().ok());
        let error = AppError::from(ClientError::Rule(late.into()));
        assert_eq!(serde_json::to_value(&error).unwrap()["details"], json!({ "date": "2999-01-01" }));
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
