//! The daily purge (PRODUCT.md §2): accounts deleted more than `ACCOUNT_RESTORE_DAYS` ago are
//! removed for good with everything they own, and sign-ins that expired unused are swept; the same
//! job removes images no meetup took within a day and forgets day-old idempotency keys. The job
//! runs once at start and then every 24 hours; a failed run is logged and retried the next time,
//! never taking the server down. `purge_deleted_accounts` takes "now" so tests can run it at will.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ACCOUNT_RESTORE_DAYS;
use crate::idempotency::KEPT_RESPONSE_LIFETIME;
use crate::media::MediaFolder;
use crate::storage::{Storage, StorageError};

/// How often the purge runs.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Accounts deleted over `ACCOUNT_RESTORE_DAYS` days before `now`, removed with their data.
    pub accounts: u64,
    /// Started sign-ins and one-time codes that had expired.
    pub expired_logins: u64,
}

/// Runs the purge as of `now`.
pub async fn purge_deleted_accounts(storage: &dyn Storage, now: DateTime<Utc>) -> Result<Purged, StorageError> {
    let accounts = storage.purge_deleted_users(now - chrono::Duration::days(ACCOUNT_RESTORE_DAYS)).await?;
    let expired_logins = storage.purge_expired_logins(now).await?;
    Ok(Purged { accounts, expired_logins })
}

/// Runs the purge now and then every `PURGE_INTERVAL`, forever; spawn it and abort it at shutdown.
pub async fn run_daily_purge(storage: Arc<dyn Storage>, media: MediaFolder) {
    let mut ticks = tokio::time::interval(PURGE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Utc::now();
        match media.purge_unused(&*storage, now).await {
            Ok(images) => tracing::info!(images, "unused images removed"),
            Err(e) => tracing::error!(error = %e, "removing unused images failed; it runs again in 24 hours"),
        }
        match storage.purge_kept_responses(now - KEPT_RESPONSE_LIFETIME).await {
            Ok(keys) => tracing::info!(keys, "old idempotency keys forgotten"),
            Err(e) => tracing::error!(error = %e, "forgetting old idempotency keys failed; it runs again in 24 hours"),
        }
        match purge_deleted_accounts(&*storage, now).await {
            Ok(purged) => {
                tracing::info!(accounts = purged.accounts, expired_logins = purged.expired_logins, "daily purge done")
            }
            Err(e) => tracing::error!(error = %e, "daily purge failed; it runs again in 24 hours"),
        }
    }
}
