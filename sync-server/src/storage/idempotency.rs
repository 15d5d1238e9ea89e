//! Idempotent writes (DESIGN.md "HTTP API"): the first response to a write made with an
//! `Idempotency-Key`, kept per (user, key) with a hash of the request so a retry gets the same
//! answer. Storage keeps the rows; what counts as the same request is the HTTP layer's decision.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{StorageError, UserId};

/// A stored first response to a keyed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    /// SHA-256 of the request (method, path and body).
    pub request_hash: [u8; 32],
    pub status: u16,
    pub body: Vec<u8>,
}

/// The idempotency layer's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The response kept for `user`'s `key`, if any.
    async fn kept_response(&self, user: UserId, key: &str) -> Result<Option<KeptResponse>, StorageError>;

    /// Keeps `response` for `user`'s `key` unless one is kept already (then nothing changes and
    /// the result is `false`). `UnknownUser` if the user does not exist.
    async fn keep_response(&self, user: UserId, key: &str, response: &KeptResponse) -> Result<bool, StorageError>;

    /// Forgets the responses kept before `created_before`; returns how many.
    async fn purge_kept_responses(&self, created_before: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// A kept response as read back from either backend.
pub(crate) fn kept_from_db(hash: &[u8], status: i64, body: Vec<u8>) -> Result<KeptResponse, StorageError> {
    let request_hash = hash.try_into().map_err(|_| StorageError::Corrupt("idempotency request hash".into()))?;
    let status = u16::try_from(status).map_err(|_| StorageError::Corrupt(format!("kept status {status}")))?;
    Ok(KeptResponse { request_hash, status, body })
}
