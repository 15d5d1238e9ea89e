//! Local accounts and tokens (PRODUCT.md §2, DESIGN.md "Auth"): sign-up, login with throttling,
//! refresh-token rotation with reuse detection, logout, profile edit and soft deletion with restore
//! on sign-in. `accounts` holds the flows, `routes` the HTTP handlers and the bearer extractor;
//! `rules`, `password`, `tokens` and `throttle` one concern each; `social` is sign-in through
//! Google, Kakao and Naver, `purge` the daily removal of accounts deleted over 30 days ago. Storage
//! keeps the data consistent; the decisions are made here.

mod accounts;
mod password;
mod purge;
mod routes;
mod rules;
mod social;
mod throttle;
mod tokens;

use axum::http::StatusCode;

pub use crate::client_ip::ClientIp;
pub use accounts::{ACCOUNT_RESTORE_DAYS, Auth, ProfileChange, Session, SignUp};
pub use password::{ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM};
pub use purge::{PURGE_INTERVAL, Purged, purge_deleted_accounts, run_daily_purge};
pub use routes::{Authenticated, bearer_token, router};
pub use rules::{check_password, normalize_email, normalize_nickname};
pub use social::{APP_CODE_LIFETIME, OAUTH_STATE_LIFETIME};
pub use throttle::{ACCOUNT_FAILURES_PER_HOUR, IP_FAILURES_PER_MINUTE, IP_SOCIAL_STARTS_PER_MINUTE, LoginThrottle};
pub use tokens::{
    ACCESS_TOKEN_LIFETIME, ACCESS_TYPE, AUDIENCE, AccessClaims, ISSUER, REFRESH_TOKEN_LIFETIME, TokenKeys,
};

/// Why an account or token request was refused. Each variant has a stable code; the two internal
/// ones become `ApiError::Internal` so their text stays in the log.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("the password must be at least 8 characters")]
    PasswordTooShort,
    #[error("the password must be at most 64 characters")]
    PasswordTooLong,
    #[error("this password is too common; choose another")]
    PasswordTooCommon,
    #[error("the nickname must be 1 to 8 characters")]
    InvalidNickname,
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("too many failed attempts; try again later")]
    TooManyAttempts,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token is not valid")]
    InvalidToken,
    #[error("the WebSocket ticket is unknown, spent or expired")]
    InvalidTicket,
    #[error("this refresh token was already used; the login it belongs to has been signed out")]
    RefreshTokenReused,
    #[error("changing the password needs the current password")]
    CurrentPasswordRequired,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("nothing to change: send a nickname, or a password with the current password")]
    NothingToChange,
    #[error("this sign-in provider is not configured on this server")]
    ProviderNotConfigured,
    #[error("redirect_uri must be a loopback http://127.0.0.1:<port>/ address or the app's deep link")]
    RedirectUriNotAllowed,
    #[error("code_challenge must be an S256 PKCE challenge (43 base64url characters)")]
    InvalidCodeChallenge,
    #[error("the sign-in attempt is unknown, already finished or expired; start again")]
    InvalidState,
    #[error("the sign-in was cancelled or refused at the provider")]
    ProviderDenied,
    #[error("the sign-in provider could not complete the sign-in")]
    ProviderFailed,
    #[error("the provider's id_token is not valid for this sign-in")]
    InvalidIdToken,
    #[error("the one-time code is unknown, spent, expired or does not match the code_verifier")]
    InvalidGrant,
    #[error("too many passwords are being checked; try again in a moment")]
    Busy,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("token signing failed: {0}")]
    Signing(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidEmail
            | Self::PasswordTooShort
            | Self::PasswordTooLong
            | Self::PasswordTooCommon
            | Self::InvalidNickname
            | Self::CurrentPasswordRequired
            | Self::NothingToChange
            | Self::RedirectUriNotAllowed
            | Self::InvalidCodeChallenge
            | Self::InvalidState
            | Self::ProviderDenied
            | Self::InvalidGrant => StatusCode::BAD_REQUEST,
            Self::InvalidIdToken => StatusCode::UNAUTHORIZED,
            Self::ProviderNotConfigured => StatusCode::NOT_FOUND,
            Self::ProviderFailed => StatusCode::BAD_GATEWAY,
            Self::InvalidCredentials
            | Self::TokenExpired
            | Self::InvalidToken
            | Self::InvalidTicket
            | Self::RefreshTokenReused => StatusCode::UNAUTHORIZED,
            Self::WrongCurrentPassword => StatusCode::FORBIDDEN,
            Self::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Hashing(_) | Self::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on. Never rename one; add a variant instead.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooLong => "password_too_long",
            Self::PasswordTooCommon => "password_too_common",
            Self::InvalidNickname => "invalid_nickname",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts => "too_many_attempts",
            Self::TokenExpired => "token_expired",
            Self::InvalidToken => "invalid_token",
            Self::InvalidTicket => "invalid_ticket",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::CurrentPasswordRequired => "current_password_required",
            Self::WrongCurrentPassword => "wrong_current_password",
            Self::NothingToChange => "nothing_to_change",
            Self::ProviderNotConfigured => "provider_not_configured",
            Self::RedirectUriNotAllowed => "redirect_uri_not_allowed",
            Self::InvalidCodeChallenge => "invalid_code_challenge",
            Self::InvalidState => "invalid_state",
            Self::ProviderDenied => "provider_denied",
            Self::ProviderFailed => "provider_error",
            Self::InvalidIdToken => "invalid_id_token",
            Self::InvalidGrant => "invalid_grant",
            Self::Busy => "unavailable",
            Self::Hashing(_) | Self::Signing(_) => "internal",
        }
    }
}
