//! The document side of sync: which documents the account has, one Automerge sync message out,
//! one in (stored with the projection in one transaction, like a merge), and whether a peer is
//! known to hold exactly what this device holds, and the count of this device's writes the server
//! has confirmed. The connection itself lives in `crate::sync`.

use std::collections::BTreeMap;

use mingizuk_core::automerge::sync::{self, SyncDoc};
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

use super::{Loaded, State};
use crate::error::{ClientError, Result};
use crate::store::Batch;

/// The meta key counting this device's writes, stored in each write's own transaction: the count
/// of writes the server has not confirmed (PRODUCT.md §1, "how many changes wait") survives a
/// restart, and a device that was up to date when it was closed knows it when it opens offline.
pub(super) const WRITES: &str = "writes";
/// The meta key of how many of this device's writes the server was last known to hold.
const WRITES_CONFIRMED: &str = "writes_confirmed";

/// This device's write count and how many of them the server holds, as stored by `store`. A
/// database from before the count was kept (documents but no count) is taken to have one write
/// the server has not confirmed: what it holds may not be on the server yet. So is one whose
/// documents changed since this build last committed (an older build, which does not count its
/// writes, ran on the data folder in between): that one more write is stored, so it waits until
/// the server confirms it even if the app closes again first.
pub(super) async fn stored_write_counts(store: &mut crate::store::Store) -> Result<(u64, u64)> {
    let number = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
    let mut writes = number(store.meta(WRITES).await?).unwrap_or(1);
    let confirmed = number(store.meta(WRITES_CONFIRMED).await?).unwrap_or(0).min(writes);
    match store.chunks_as_marked().await? {
        Some(true) => {}
        Some(false) => {
            writes += 1;
            store.commit(&Batch { meta: vec![(WRITES, writes.to_string())], ..Batch::default() }).await?;
        }
        // Not marked yet (this build's first open of the folder): marked now, so a change made
        // by anything else from here on is noticed.
        None => store.commit(&Batch::default()).await?,
    }
    Ok((writes, confirmed))
}

impl State {
    /// Adds the next write's count to `batch`; once it is committed, [`State::count_write`].
    pub(super) fn mark_write(&self, batch: &mut Batch) {
        batch.meta.push((WRITES, (*self.local_writes.borrow() + 1).to_string()));
    }

    /// Marks a wipe's `batch` (which starts over as a first launch does): the count goes on, and
    /// all of it is taken as confirmed. Returns the count to set once the batch is committed.
    pub(super) fn mark_wipe(&self, batch: &mut Batch) -> u64 {
        let writes = *self.local_writes.borrow() + 1;
        batch.meta.retain(|(key, _)| *key != WRITES);
        batch.meta.push((WRITES, writes.to_string()));
        batch.meta.push((WRITES_CONFIRMED, writes.to_string()));
        writes
    }

    /// Counts a write whose batch, marked by [`State::mark_write`], is committed.
    pub(super) fn count_write(&self) {
        self.local_writes.send_modify(|n| *n += 1);
    }

    /// Records that the server holds this device's first `writes` writes (kept only if more than
    /// known already).
    pub(crate) async fn confirm_writes(&mut self, writes: u64) -> Result<()> {
        let writes = writes.min(*self.local_writes.borrow());
        if writes <= *self.writes_confirmed.borrow() {
            return Ok(());
        }
        let batch = Batch { meta: vec![(WRITES_CONFIRMED, writes.to_string())], ..Batch::default() };
        self.store.commit(&batch).await?;
        self.writes_confirmed.send_replace(writes);
        Ok(())
    }

    /// Every document of the account: those this device holds and those the account document
    /// lists (written by other devices, perhaps not here yet).
    pub(crate) async fn sync_targets(&mut self) -> Result<Vec<(DocKind, Uuid)>> {
        let root = self.root;
        let mut targets = self.known.clone();
        let account = self.load_cached(DocKind::Account).await?;
        let listed = schema::read_doc_list(&account.doc).map_err(|e| ClientError::corrupt(root, e))?;
        for (id, kind) in listed {
            // Only ids of this account: a stale entry from before adoption names nothing to sync.
            if kind.id_in(root) == id {
                targets.insert(kind, id);
            }
        }
        Ok(targets.into_iter().collect())
    }

    /// Whether this device holds the document (rather than just knowing its name).
    pub(crate) fn holds(&self, kind: DocKind) -> bool {
        self.known.contains_key(&kind)
    }

    /// The next sync message for `kind` to the peer whose state is `peer`, if one is due.
    pub(crate) async fn generate_sync(&mut self, kind: DocKind, peer: &mut sync::State) -> Result<Option<Vec<u8>>> {
        let loaded = self.load_cached(kind).await?;
        Ok(loaded.doc.sync().generate_sync_message(peer).map(sync::Message::encode))
    }

    /// Applies a peer's sync message for `kind`. What it brings is checked, stored and folded
    /// all or nothing; returns whether anything was new.
    pub(crate) async fn receive_sync(&mut self, kind: DocKind, peer: &mut sync::State, bytes: &[u8]) -> Result<bool> {
        let id = kind.id_in(self.root);
        let message = sync::Message::decode(bytes).map_err(|e| ClientError::corrupt(id, e))?;
        let current = self.load_cached(kind).await?;
        let mut target =
            Loaded { doc: current.doc.clone(), saved: current.saved.clone(), chunks: current.chunks.clone() };
        let before = target.doc.get_heads();
        target.doc.sync().receive_sync_message(peer, message).map_err(|e| ClientError::corrupt(id, e))?;
        if target.doc.get_heads() == before {
            // Nothing applied, but changes whose dependencies have not arrived yet wait in the
            // copy's queue. Keep them: the peer counts them as delivered and will not send them
            // again, so dropping them would leave this device asking for them forever.
            self.docs.insert(kind, target);
            return Ok(false);
        }
        schema::check_kind(&target.doc, kind).map_err(|e| ClientError::corrupt(id, e))?;
        self.absorb(BTreeMap::from([(kind, target)]), false).await
    }

    /// Whether the peer, as of its last message, holds exactly this device's heads of `kind`.
    pub(crate) async fn in_sync(&mut self, kind: DocKind, peer: &sync::State) -> Result<bool> {
        let Some(theirs) = peer.their_heads.clone() else { return Ok(false) };
        let loaded = self.load_cached(kind).await?;
        let ours = loaded.doc.get_heads();
        Ok(ours.iter().all(|h| theirs.contains(h)) && theirs.iter().all(|h| loaded.doc.get_change_by_hash(h).is_some()))
    }
}
