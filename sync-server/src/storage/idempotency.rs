//! Idempotent writes (DESIGN.md "HTTP API"): per (user, key), first a claim that the request holding
//! the key is running, then the first response kept with a hash of the request so a retry gets the
//! same answer. Both live in the database, so every server instance on it sees them: a duplicate
//! arriving at another instance while the first runs is told so, never run twice. Storage keeps
//! the rows and makes each step atomic; what counts as the same request, and how long a claim may
//! run before another request takes it over, is the HTTP layer's decision.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StorageError, UserId};

/// A stored first response to a keyed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    /// SHA-256 of the request (method, path and body).
    pub request_hash: [u8; 32],
    pub status: u16,
    pub body: Vec<u8>,
}

/// Where a key stands when a request asks to run under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The asking request holds the key now (it was free, or held by a request that claimed it
    /// before `stale_before` with the same hash): it runs, then keeps its response or releases
    /// the key with this claim.
    Claimed(Uuid),
    /// Another request holds the key since after `stale_before`; the hash of that request.
    Running { request_hash: [u8; 32] },
    /// The key's first response.
    Kept(KeptResponse),
}

/// A stored row's status while its request runs (a real response is 100–599).
pub(crate) const RUNNING: i64 = 0;

/// The idempotency layer's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `user`'s `key` for a request with `request_hash` at `now`, atomically: of concurrent
    /// claims (from any instance) exactly one gets `Claimed`. A claim made before `stale_before`
    /// whose request never finished (its server died) is taken over by a request with the same
    /// hash. `UnknownUser` if the user does not exist.
    async fn claim_key(
        &self,
        user: UserId,
        key: &str,
        request_hash: &[u8; 32],
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<KeyClaim, StorageError>;

    /// Keeps `response` as the key's first response, if `claim` still holds the key (then `true`;
    /// a claim taken over meanwhile keeps nothing and gets `false`). The response's hash is the
    /// claim's.
    async fn keep_response(
        &self,
        user: UserId,
        key: &str,
        claim: Uuid,
        status: u16,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Frees the key if `claim` still holds it, so the next request with it runs (a response not
    /// worth keeping: a server error, a throttle, a write that did not finish).
    async fn release_key(&self, user: UserId, key: &str, claim: Uuid) -> Result<(), StorageError>;

    /// Forgets the responses kept, and claims made, before `created_before`; returns how many.
    async fn purge_kept_responses(&self, created_before: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// A key's row as read back from either backend: (hash, status, body).
pub(crate) fn claim_from_db(hash: &[u8], status: i64, body: Vec<u8>) -> Result<KeyClaim, StorageError> {
    let request_hash: [u8; 32] =
        hash.try_into().map_err(|_| StorageError::Corrupt("idempotency request hash".into()))?;
    if status == RUNNING {
        return Ok(KeyClaim::Running { request_hash });
    }
    let status = u16::try_from(status).map_err(|_| StorageError::Corrupt(format!("kept status {status}")))?;
    Ok(KeyClaim::Kept(KeptResponse { request_hash, status, body }))
}

/// Both backends' claim loops give up with this after a few rounds in which the key's row changed
/// between their reads and writes (other requests claiming and releasing it meanwhile).
pub(crate) fn key_kept_changing() -> StorageError {
    StorageError::Io(std::io::Error::other("an idempotency key kept changing under its claim"))
}
