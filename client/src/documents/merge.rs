//! Merging another replica's documents and re-keying this device's documents to an account.

use std::collections::BTreeMap;

use mingizuk_core::automerge::AutoCommit;
use mingizuk_core::fold::Derived;
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

use super::{Loaded, Pending, State, commit_options, day_diff, personal_of};
use crate::engine::DocumentBytes;
use crate::error::{ClientError, Result};
use crate::store::{Batch, LogEntry};

/// The meta key naming the account root this device's documents took at a sign-in, written in
/// the same transaction. Absent on a device that never had an account, and after a wipe (which
/// removes all meta data): such a device's documents are its own, and any account may take them.
const ACCOUNT_ROOT: &str = "account_root";

/// Whether signing in may attach documents that carry another account's root (kept on the device
/// at a sign-out) to the account signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtherAccountData {
    /// Refused with `other_account_data`: one account's history never goes to another unasked.
    Refuse,
    /// The user chose to merge them into the account signing in.
    Merge,
}

impl State {
    /// Re-keys this device's documents to the account whose root is `root`. Documents that
    /// already carry another account's root are refused with `OtherAccountData` (nothing is
    /// changed) unless `other` is `Merge`. The same account again changes nothing (a database from
    /// before the account root was recorded records it then: resuming a session passes here).
    pub(crate) async fn adopt(&mut self, root: Uuid, other: OtherAccountData, now_ms: i64) -> Result<()> {
        let account = self.store.meta(ACCOUNT_ROOT).await?;
        let attached = account.as_deref() == Some(self.root.to_string().as_str());
        if root == self.root {
            if !attached {
                self.store.commit(&Batch { meta: vec![(ACCOUNT_ROOT, root.to_string())], ..Batch::default() }).await?;
            }
            return Ok(());
        }
        if attached && other == OtherAccountData::Refuse {
            return Err(ClientError::OtherAccountData);
        }
        let old = self.root;
        let kinds: Vec<DocKind> = self.known.keys().copied().collect();
        let account = self.load_cached(DocKind::Account).await?;
        for kind in &kinds {
            schema::move_doc(&mut account.doc, old, root, *kind)?;
        }
        account.doc.commit_with(commit_options(now_ms));
        let new_id = DocKind::Account.id_in(root);
        let pending: Vec<Pending> = account.unsaved(DocKind::Account, new_id).into_iter().collect();
        let mut batch = Batch {
            renames: kinds.iter().map(|k| (k.id_in(old), k.id_in(root), k.label())).collect(),
            chunks: pending.iter().map(|p| p.chunk.clone()).collect(),
            meta: vec![("root", root.to_string()), (ACCOUNT_ROOT, root.to_string())],
            ..Batch::default()
        };
        self.mark_write(&mut batch);
        if let Err(e) = self.store.commit(&batch).await {
            self.forget(&[]);
            return Err(e);
        }
        self.root = root;
        for kind in kinds {
            self.known.insert(kind, kind.id_in(root));
        }
        self.mark_saved(pending);
        self.count_write();
        Ok(())
    }

    /// Merges another replica's documents: all of them are checked and merged in memory, then
    /// stored in one transaction, then the personal data is read again and folded. What was new
    /// counts as a local write (the sync task sends it).
    pub(crate) async fn merge(&mut self, incoming: &[DocumentBytes]) -> Result<()> {
        let root = self.root;
        let mut merged: BTreeMap<DocKind, Loaded> = BTreeMap::new();
        for doc in incoming {
            if doc.kind.id_in(root) != doc.id {
                return Err(ClientError::Invalid(format!("document {} is not part of this account", doc.id)));
            }
            let mut target = match merged.remove(&doc.kind) {
                Some(l) => l,
                None => match self.docs.get(&doc.kind) {
                    Some(l) => Loaded { doc: l.doc.clone(), saved: l.saved.clone(), chunks: l.chunks.clone() },
                    None if self.known.contains_key(&doc.kind) => self.load(doc.kind).await?,
                    None => Loaded {
                        doc: AutoCommit::new().with_actor(self.actor.clone()),
                        saved: Vec::new(),
                        chunks: Vec::new(),
                    },
                },
            };
            // A strict load first: a document that does not parse whole is refused whole.
            let mut theirs = AutoCommit::load(&doc.bytes).map_err(|e| ClientError::corrupt(doc.id, e))?;
            schema::check_kind(&theirs, doc.kind).map_err(|e| ClientError::corrupt(doc.id, e))?;
            target.doc.merge(&mut theirs).map_err(|e| ClientError::corrupt(doc.id, e))?;
            merged.insert(doc.kind, target);
        }
        // New to this device, perhaps to the server too: the sync task sends it like a write.
        self.absorb(merged, true).await?;
        Ok(())
    }

    /// Stores documents that took in another replica's changes (in memory, not yet stored),
    /// reads the personal data again and folds it, all or nothing; what was new is counted as a
    /// write of this device if `local_write`. Returns whether anything was new.
    pub(super) async fn absorb(&mut self, mut merged: BTreeMap<DocKind, Loaded>, local_write: bool) -> Result<bool> {
        let root = self.root;
        let mut batch = Batch::default();
        let mut pending = Vec::new();
        let mut logs = self.logs.clone();
        for (kind, loaded) in merged.iter_mut() {
            let id = kind.id_in(root);
            let Some(p) = loaded.unsaved(*kind, id) else { continue };
            if !self.known.contains_key(kind) {
                batch.new_docs.push((id, kind.label()));
            }
            if let DocKind::Log(month) = kind {
                let log = schema::read_log(&loaded.doc).map_err(|e| ClientError::corrupt(id, e))?;
                let entries = log
                    .actions
                    .iter()
                    .cloned()
                    .map(LogEntry::Action)
                    .chain(log.routines.iter().cloned().map(LogEntry::Routine))
                    .collect();
                batch.replaced_logs.push((id, entries));
                logs.insert(*month, log);
            }
            batch.chunks.push(p.chunk.clone());
            pending.push(p);
        }
        if pending.is_empty() {
            return Ok(false);
        }
        let account = match merged.get(&DocKind::Account) {
            Some(l) => schema::read_account(&l.doc),
            None => Ok(self.personal.account.clone()),
        }
        .map_err(|e| ClientError::corrupt(DocKind::Account.id_in(root), e))?;
        let routines = match merged.get(&DocKind::Routines) {
            Some(l) => schema::read_routines(&l.doc),
            None => Ok(self.personal.routines.clone()),
        }
        .map_err(|e| ClientError::corrupt(DocKind::Routines.id_in(root), e))?;
        let personal = personal_of(account, routines, &logs);
        let derived = Derived::of(&personal);
        batch.days = day_diff(&self.derived.days, &derived.days);
        if local_write {
            self.mark_write(&mut batch);
        }
        self.store.commit(&batch).await?;
        let kinds: Vec<DocKind> = merged.keys().copied().collect();
        for (kind, loaded) in merged {
            self.known.insert(kind, kind.id_in(root));
            // Old months merged in need not stay in memory; the current ones do.
            if self.docs.contains_key(&kind) || matches!(kind, DocKind::Account | DocKind::Routines) {
                self.docs.insert(kind, loaded);
            }
        }
        self.mark_saved(pending);
        self.logs = logs;
        self.personal = personal;
        self.derived = derived;
        if local_write {
            self.count_write();
        }
        self.compact_after_write(&kinds).await;
        Ok(true)
    }
}
