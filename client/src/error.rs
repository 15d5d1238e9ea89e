//! Errors of the engine, each with a stable code for the app and the UI.

use mingizuk_core::RuleError;
use mingizuk_core::export::ImportRefusal;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    /// The action breaks a product rule; nothing was changed.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The device's database failed; nothing was changed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("could not prepare the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored or received document cannot be used.
    #[error("document {id} is unusable: {reason}")]
    Corrupt { id: String, reason: String },
    /// An argument outside what the call accepts.
    #[error("{0}")]
    Invalid(String),
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server refused, with its stable code (`invalid_credentials`, `token_expired`, …).
    #[error("{message}")]
    Server { status: u16, code: String, message: String },
    /// Signing in or syncing needs an account, and this device is signed out.
    #[error("sign in first")]
    SignedOut,
    /// Removing this device's data would lose changes the server does not hold yet; nothing was
    /// changed.
    #[error("changes made on this device have not reached the server yet")]
    UnsyncedChanges,
    /// Signing in would attach data another account left on this device (kept at its sign-out)
    /// to the account signing in; nothing was changed and no session was kept. The user may merge
    /// it anyway (`Cloud::attach_other_account_data`) or cancel (`Cloud::cancel_sign_in`).
    #[error("this device holds another account's data")]
    OtherAccountData,
    /// A social sign-in waited its whole time for the browser to come back with the one-time code
    /// (the user closed the tab, or never finished there); nothing was changed.
    #[error("the sign-in was not finished in the browser in time")]
    SignInTimedOut,
    /// Another engine (another copy of the app) has this device's data open.
    #[error("the device's data is already open in another copy of Mingizuk")]
    DataInUse,
}

impl ClientError {
    pub fn code(&self) -> &str {
        match self {
            ClientError::Rule(e) => e.code(),
            ClientError::Storage(_) | ClientError::Migrate(_) => "storage_failed",
            ClientError::Corrupt { .. } => "corrupt_document",
            ClientError::Invalid(_) => "invalid_input",
            ClientError::Network(_) => "network_failed",
            ClientError::Server { code, .. } => code,
            ClientError::SignedOut => "signed_out",
            ClientError::UnsyncedChanges => "unsynced_changes",
            ClientError::OtherAccountData => "other_account_data",
            ClientError::SignInTimedOut => "sign_in_timed_out",
            ClientError::DataInUse => "data_in_use",
        }
    }

    /// Why an import was refused, when this is an import's refusal: the app words its reason.
    pub fn import_refusal(&self) -> Option<&ImportRefusal> {
        match self {
            ClientError::Rule(e) => e.import_refusal(),
            _ => None,
        }
    }

    pub(crate) fn corrupt(id: impl ToString, reason: impl ToString) -> ClientError {
        ClientError::Corrupt { id: id.to_string(), reason: reason.to_string() }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
