//! The one error type of the HTTP API and the JSON extractor that reports through it. Every error a
//! client sees is `{"error":{"code":"<stable_snake_case>","message":"…"}}` with the status of its
//! variant. Causes of server-side failures (5xx) are logged here and never sent.

use std::error::Error as StdError;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::auth::AuthError;
use crate::storage::StorageError;

type Cause = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(String),
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body does not have the expected fields: {0}")]
    InvalidBody(String),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("sign in first")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("nothing here")]
    NotFound,
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the nickname is already taken")]
    NicknameTaken,
    #[error("too many requests; try again later")]
    Throttled,
    #[error("this origin may not call the API")]
    OriginNotAllowed,
    #[error("this endpoint speaks WebSocket: send an upgrade request")]
    UpgradeRequired,
    /// A product rule refused the request (`meetup_full`, `meetup_ended`, …): its own status
    /// (409 conflict or 422 rule broken) and stable code, with a message for people.
    #[error("{message}")]
    Rule { status: StatusCode, code: &'static str, message: String },
    /// An account or token refusal, with its own code (`invalid_credentials`, `token_expired`, …).
    #[error(transparent)]
    Auth(AuthError),
    #[error("the service is unavailable")]
    Unavailable(#[source] Cause),
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::InvalidJson(_) | Self::InvalidBody(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::EmailTaken | Self::NicknameTaken => StatusCode::CONFLICT,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
            Self::Rule { status, .. } => *status,
            Self::Auth(e) => e.status(),
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on. Never rename one; add a variant instead.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidBody(_) => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::EmailTaken => "email_taken",
            Self::NicknameTaken => "nickname_taken",
            Self::Throttled => "throttled",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::UpgradeRequired => "upgrade_required",
            Self::Rule { code, .. } => code,
            Self::Auth(e) => e.code(),
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A broken product rule: 422 with `code`.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::Rule { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: message.into() }
    }

    /// A meetup names an image the user did not upload, or one no longer stored: 422.
    pub fn unknown_image() -> Self {
        Self::rule("unknown_image", "the image is not one you uploaded")
    }

    /// A conflict with the current state: 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Rule { status: StatusCode::CONFLICT, code, message: message.into() }
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }
}

/// Runs `work` (`what`, for the log) in a task of its own: a client that hangs up drops its
/// request's future, which must not stop a write between its commit and what has to follow it
/// (closing a room, the account's chat connections).
pub async fn to_completion<T: Send + 'static>(
    what: &'static str,
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(format!("{what} did not finish: {e}"))),
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::EmailTaken => Self::EmailTaken,
            StorageError::NicknameTaken => Self::NicknameTaken,
            StorageError::UnknownMeetup => Self::NotFound,
            StorageError::UnknownImage => Self::unknown_image(),
            other => Self::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            // Server-side failures keep their text for the log only.
            AuthError::Hashing(_) | AuthError::Signing(_) => Self::internal(e),
            AuthError::Busy => Self::unavailable(e),
            other => Self::Auth(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause chain goes to the log (with the request id of the enclosing span); the
            // client gets only the variant's fixed message.
            let mut causes = Vec::new();
            let mut source = self.source();
            while let Some(cause) = source {
                causes.push(cause.to_string());
                source = cause.source();
            }
            tracing::error!(code = self.code(), causes = ?causes, "request failed");
        }
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        (status, axum::Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::PayloadTooLarge;
        }
        match rejection {
            JsonRejection::JsonSyntaxError(e) => Self::InvalidJson(e.body_text()),
            JsonRejection::JsonDataError(e) => Self::InvalidBody(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            other => Self::InvalidJson(other.body_text()),
        }
    }
}

/// `axum::Json`, except that a body it cannot read is answered in the API's error format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_internal_causes_are_not_sent() {
        let error = ApiError::internal(std::io::Error::other("disk on fire at /secret/path"));
        assert_eq!(error.code(), "internal");
        assert_eq!(error.to_string(), "internal error");
        let all = [
            ApiError::Validation("x".into()),
            ApiError::InvalidJson("x".into()),
            ApiError::InvalidBody("x".into()),
            ApiError::UnsupportedMediaType,
            ApiError::PayloadTooLarge,
            ApiError::Unauthenticated,
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::EmailTaken,
            ApiError::NicknameTaken,
            ApiError::Throttled,
            ApiError::OriginNotAllowed,
            ApiError::UpgradeRequired,
            ApiError::rule("meetup_full", "x"),
            ApiError::conflict("already_member", "x"),
            ApiError::Auth(AuthError::InvalidCredentials),
            ApiError::Auth(AuthError::RefreshTokenReused),
            ApiError::unavailable("x"),
            error,
        ];
        for e in &all {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", e.code());
        }
    }
}
