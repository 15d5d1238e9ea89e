//! Accounts and sync on the client (issue 3): signing up or in against the server, attaching
//! this device's documents to the account, keeping the session, and the background task that
//! syncs every document of the account. [`Cloud`] is the face the app uses.

mod api;
mod keychain;
mod session;
mod sign_in;
mod social;
mod task;

use std::path::Path;
use std::sync::Arc;

use mingizuk_core::automerge::sync as am_sync;
use mingizuk_core::schema::DocKind;
use tokio::sync::{Mutex, watch};
use uuid::Uuid;

pub(crate) use api::server_error;
pub use api::{ProfileChange, ServerApi, TokenPair, UserInfo};
pub use keychain::{KEYCHAIN_PATIENCE, OsKeychain, SecretStore};
pub use session::{Credentials, Session, TokenStore};
pub use social::{PROVIDERS, SocialSignIn};
pub use task::{SyncHandle, SyncPhase, SyncStatus};

use crate::engine::Engine;
use crate::error::{ClientError, Result};

/// The document operations the sync task needs from the engine; each takes the engine's lock
/// once.
impl Engine {
    pub(crate) fn local_writes(&self) -> watch::Receiver<u64> {
        self.local_writes.clone()
    }

    pub(crate) async fn sync_targets(&self) -> Result<Vec<(DocKind, Uuid)>> {
        self.state.lock().await.sync_targets().await
    }

    pub(crate) async fn holds(&self, kind: DocKind) -> bool {
        self.state.lock().await.holds(kind)
    }

    pub(crate) async fn generate_sync(&self, kind: DocKind, peer: &mut am_sync::State) -> Result<Option<Vec<u8>>> {
        self.state.lock().await.generate_sync(kind, peer).await
    }

    pub(crate) async fn receive_sync(&self, kind: DocKind, peer: &mut am_sync::State, bytes: &[u8]) -> Result<bool> {
        self.state.lock().await.receive_sync(kind, peer, bytes).await
    }

    pub(crate) async fn in_sync(&self, kind: DocKind, peer: &am_sync::State) -> Result<bool> {
        self.state.lock().await.in_sync(kind, peer).await
    }

    /// The sync status before any connection: offline, with what the server held when this
    /// device last heard from it (stored, so it holds across restarts).
    pub(crate) fn offline_status(&self) -> SyncStatus {
        SyncStatus::offline(*self.local_writes.borrow(), *self.confirmed_writes.borrow())
    }

    pub(crate) async fn confirm_writes(&self, writes: u64) -> Result<()> {
        self.state.lock().await.confirm_writes(writes).await
    }
}

/// What signing out does with the data on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalData {
    /// Keep the device's history (it stays usable offline, unsynced).
    Keep,
    /// Remove it once the server holds every change made here: the device starts over as on
    /// first launch. While changes wait, syncing gets up to [`UNSYNCED_PATIENCE`] to finish; if
    /// they still wait, nothing is done and the call fails with `unsynced_changes`.
    Remove,
    /// Remove it even if changes made here never reached the server: they are lost (the user
    /// was told, after `unsynced_changes`).
    Discard,
}

impl LocalData {
    fn removes(self) -> bool {
        self != LocalData::Keep
    }
}

/// How long removing this device's data waits for syncing to take the server what it lacks.
pub const UNSYNCED_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// The device's link to its account on one server: sign-up, sign-in, sign-out and the sync task.
pub struct Cloud {
    engine: Arc<Engine>,
    credentials: Arc<Credentials>,
    task: Mutex<Option<SyncHandle>>,
    status: watch::Sender<SyncStatus>,
    /// Passes the task's status on to `status`, counting the writes made since (offline too,
    /// and after the task stopped); replaced when a task starts.
    follower: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// A sign-in refused with `other_account_data`, kept in memory only until the user merges or
    /// cancels (`sign_in.rs`).
    held: Mutex<Option<sign_in::Held>>,
}

impl Drop for Cloud {
    fn drop(&mut self) {
        if let Some(follower) = self.follower.get_mut().ok().and_then(Option::take) {
            follower.abort();
        }
    }
}

impl Cloud {
    /// A link to the server at `server_url`, keeping the session in `data_dir`. A session saved
    /// there by an earlier run is picked up (call [`Cloud::resume`] to start syncing with it).
    pub fn new(engine: Arc<Engine>, server_url: &str, data_dir: &Path) -> Result<Self> {
        Self::with_tokens(engine, server_url, TokenStore::in_dir(data_dir))
    }

    /// Like [`Cloud::new`], with the session kept in `tokens` (the app's: the OS keychain).
    pub fn with_tokens(engine: Arc<Engine>, server_url: &str, tokens: TokenStore) -> Result<Self> {
        let credentials = Arc::new(Credentials::new(ServerApi::new(server_url)?, tokens)?);
        let (status, _) = watch::channel(engine.offline_status());
        Ok(Self {
            engine,
            credentials,
            task: Mutex::new(None),
            status,
            follower: std::sync::Mutex::new(None),
            held: Mutex::new(None),
        })
    }

    /// The session this link keeps, for the other parts that speak to the same server (the
    /// social cache and outbox).
    pub fn credentials(&self) -> Arc<Credentials> {
        self.credentials.clone()
    }

    /// The signed-in user, if any.
    pub async fn user(&self) -> Option<UserInfo> {
        self.credentials.session().await.map(|s| s.user)
    }

    /// Changes the signed-in user's nickname and/or password (a new password needs the current
    /// one); the session keeps the new profile.
    pub async fn edit_profile(&self, change: &ProfileChange) -> Result<UserInfo> {
        let api = &self.credentials.api;
        let user = match api.change_profile(&self.credentials.access_token(false).await?, change).await {
            // The access token expired between the check and the call: once more, refreshed.
            Err(ClientError::Server { status: 401, .. }) => {
                api.change_profile(&self.credentials.access_token(true).await?, change).await?
            }
            other => other?,
        };
        self.credentials.set_user(user.clone()).await?;
        Ok(user)
    }

    /// Deletes the account on the server (signing in within 30 days restores it), then signs
    /// this device out, keeping or removing its data. With [`LocalData::Remove`] and changes the
    /// server lacks, nothing is deleted (`unsynced_changes`).
    pub async fn delete_account(&self, local: LocalData) -> Result<()> {
        self.before_removing(local).await?;
        let api = &self.credentials.api;
        match api.delete_me(&self.credentials.access_token(false).await?).await {
            Err(ClientError::Server { status: 401, .. }) => {
                api.delete_me(&self.credentials.access_token(true).await?).await?;
            }
            other => other?,
        }
        self.pause().await;
        if local.removes() {
            self.engine.wipe().await?;
        }
        self.credentials.clear().await?;
        Ok(())
    }

    /// Starts syncing with a saved session (at app start). Signed out: `SignedOut`.
    pub async fn resume(&self) -> Result<()> {
        let session = self.credentials.session().await.ok_or(ClientError::SignedOut)?;
        self.engine.adopt_account(session.account_root).await?;
        self.start().await;
        Ok(())
    }

    async fn start(&self) {
        let mut task = self.task.lock().await;
        if let Some(old) = task.take() {
            old.stop().await;
        }
        let handle = task::start(self.engine.clone(), self.credentials.clone());
        // The old follower goes first: its last status must not land after the new one's.
        let old = self.follower.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(old) = old {
            old.abort();
            let _ = old.await;
        }
        let mut from_task = handle.status();
        let mut writes = self.engine.local_writes();
        let to_app = self.status.clone();
        // The task's status, with the writes made since it last looked counted at once: offline,
        // and once the task has stopped, the app still shows how many changes wait.
        let follower = tokio::spawn(async move {
            let mut task_runs = true;
            loop {
                let status = from_task.borrow_and_update().clone().counting(*writes.borrow_and_update());
                to_app.send_if_modified(|s| std::mem::replace(s, status.clone()) != status);
                tokio::select! {
                    changed = from_task.changed(), if task_runs => task_runs = changed.is_ok(),
                    changed = writes.changed() => if changed.is_err() { break },
                }
            }
        });
        *self.follower.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(follower);
        *task = Some(handle);
    }

    /// The sync status, as it changes.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Waits until the server holds everything this device has (or `timeout` passes).
    pub async fn wait_up_to_date(&self, timeout: std::time::Duration) -> bool {
        // Counted now: a write just made must be among what the server confirms.
        let writes = *self.engine.local_writes.borrow();
        let mut status = self.status.subscribe();
        tokio::time::timeout(timeout, status.wait_for(|s| s.holds(writes))).await.is_ok_and(|r| r.is_ok())
    }

    /// What removing this device's data needs first (PRODUCT.md §1: nothing logged offline is
    /// lost): with [`LocalData::Remove`], the server holding every change made here — known
    /// already (it was up to date when last heard from, and nothing was written since: offline
    /// now is fine), or within [`UNSYNCED_PATIENCE`] while syncing runs.
    async fn before_removing(&self, local: LocalData) -> Result<()> {
        if local != LocalData::Remove {
            return Ok(());
        }
        let writes = *self.engine.local_writes.borrow();
        if self.status.borrow().held(writes) {
            return Ok(());
        }
        let syncing = self.task.lock().await.is_some();
        let patience = if syncing { UNSYNCED_PATIENCE } else { std::time::Duration::ZERO };
        if self.wait_up_to_date(patience).await { Ok(()) } else { Err(ClientError::UnsyncedChanges) }
    }

    /// Stops syncing (the session stays; [`Cloud::resume`] starts again).
    pub async fn pause(&self) {
        if let Some(task) = self.task.lock().await.take() {
            task.stop().await;
        }
    }

    /// Signs out: stops syncing, revokes the session on the server (best effort: offline, the
    /// tokens are forgotten here all the same) and forgets it. The device's data stays, or with
    /// [`LocalData::Remove`] is removed (what was synced stays in the account) once the server
    /// holds all of it: else the device stays signed in and keeps it all (`unsynced_changes`).
    pub async fn sign_out(&self, local: LocalData) -> Result<()> {
        self.before_removing(local).await?;
        self.pause().await;
        if local.removes() {
            self.engine.wipe().await?;
        }
        if let Some(session) = self.credentials.clear().await?
            && let Err(e) = self.credentials.api.log_out(&session.refresh_token).await
        {
            tracing::warn!(error = %e, "could not revoke the session on the server");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use mingizuk_core::automerge::sync::{Message, MessageVersion};
    use mingizuk_core::automerge::transaction::Transactable;
    use mingizuk_core::automerge::{AutoCommit, ChangeHash, ROOT};

    use super::*;

    fn changes_message(heads: Vec<ChangeHash>, changes: &[&[u8]]) -> Vec<u8> {
        Message {
            heads,
            need: Vec::new(),
            have: Vec::new(),
            changes: changes.iter().map(|c| c.to_vec()).collect::<Vec<_>>().into(),
            flags: None,
            version: MessageVersion::V1,
        }
        .encode()
    }

    /// The server can send a change before the one it depends on (its picture of what this device
    /// has comes from a Bloom filter, which sometimes says yes wrongly). It does not send a change
    /// twice on one connection, so the device must keep the early one until its dependency comes,
    /// ask for that dependency, and then hold the server's heads.
    #[tokio::test]
    async fn a_change_that_arrives_before_its_dependency_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(crate::ManualClock::new(1_793_577_600_000, 9 * 60));
        let engine = Engine::open(&dir.path().join("device.sqlite"), clock).await.unwrap();
        let account =
            engine.export_documents().await.unwrap().into_iter().find(|d| d.kind == DocKind::Account).unwrap();
        let mut server = AutoCommit::load(&account.bytes).unwrap();
        server.put(ROOT, "note", "first").unwrap();
        let first = server.commit().unwrap();
        server.put(ROOT, "note", "second").unwrap();
        let second = server.commit().unwrap();
        let first_bytes = server.get_change_by_hash(&first).unwrap().raw_bytes().to_vec();
        let second_bytes = server.get_change_by_hash(&second).unwrap().raw_bytes().to_vec();

        let mut peer = am_sync::State::new();
        engine.generate_sync(DocKind::Account, &mut peer).await.unwrap().unwrap();
        let changed = engine
            .receive_sync(DocKind::Account, &mut peer, &changes_message(vec![second], &[&second_bytes]))
            .await
            .unwrap();
        assert!(!changed, "the second change cannot apply before the first");
        let ask = engine.generate_sync(DocKind::Account, &mut peer).await.unwrap().unwrap();
        let ask = Message::decode(&ask).unwrap();
        assert_eq!(ask.need, vec![first], "the device asks for the missing dependency, not for what it was sent");

        let changed = engine
            .receive_sync(DocKind::Account, &mut peer, &changes_message(vec![second], &[&first_bytes]))
            .await
            .unwrap();
        assert!(changed);
        assert!(engine.in_sync(DocKind::Account, &peer).await.unwrap(), "the device holds the server's heads");
    }
}
