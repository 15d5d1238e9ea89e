//! Writing user changes: each change to its document, the new chunks and the projection in one
//! store transaction; on failure memory goes back to what is stored.

use mingizuk_core::automerge::AutoCommit;
use mingizuk_core::fold::{Derived, Event};
use mingizuk_core::model::{Cycle, RoutineId};
use mingizuk_core::rules::Change;
use mingizuk_core::schema::{self, DocKind, Month};

use super::{Pending, State, commit_options, day_diff};
use crate::error::Result;
use crate::store::{Batch, LogEntry};

impl State {
    /// Writes changes to their documents and stores them with the projection, in one
    /// transaction. On failure memory is reset to what is stored and the error returned.
    pub(crate) async fn write(&mut self, changes: &[Change], now_ms: i64) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut targets: Vec<DocKind> = changes.iter().map(schema::target).collect();
        targets.sort();
        targets.dedup();
        let new_kinds: Vec<DocKind> = targets.iter().filter(|k| !self.known.contains_key(k)).copied().collect();
        let mut batch = Batch::default();
        let pending = match self.write_docs(changes, &targets, &new_kinds, now_ms, &mut batch).await {
            Ok(p) => p,
            Err(e) => {
                self.forget(&targets);
                return Err(e);
            }
        };
        // The derived state: appended on the usual path, folded again when an edit, a cycle, a
        // completion in the past or one outside its routine's current cycle (an import's: it can
        // change which cycle is current, and so the completion a complete one implies) may
        // change what was derived.
        let current = |routine: &RoutineId, cycle: Cycle| {
            self.personal.routines.get(routine).is_some_and(|r| self.personal.current_cycle(r) == cycle)
        };
        let incremental = changes.iter().all(|c| match c {
            Change::CompleteAction(a) => current(&a.key.routine, a.key.cycle),
            Change::CompleteRoutine(r) => current(&r.key.routine, r.key.cycle),
            Change::Draw(_) => true,
            _ => false,
        });
        let mut personal = None;
        let mut derived = self.derived.clone();
        let appended = incremental && {
            let events: Vec<Event<'_>> = changes
                .iter()
                .filter_map(|c| match c {
                    Change::CompleteAction(a) => Some(Event::Action(a)),
                    Change::CompleteRoutine(r) => Some(Event::Routine(r)),
                    Change::Draw(d) => Some(Event::Draw(d)),
                    _ => None,
                })
                .collect();
            derived.try_append(&events)
        };
        if !appended {
            let mut next = self.personal.clone();
            next.apply(changes);
            derived = Derived::of(&next);
            personal = Some(next);
        }
        batch.days = day_diff(&self.derived.days, &derived.days);
        self.mark_write(&mut batch);
        if let Err(e) = self.store.commit(&batch).await {
            self.forget(&targets);
            return Err(e);
        }
        for kind in &new_kinds {
            self.known.insert(*kind, kind.id_in(self.root));
        }
        for change in changes {
            match change {
                Change::CompleteAction(c) => {
                    self.logs.entry(Month::of(c.moment.date)).or_default().actions.push(c.clone())
                }
                Change::CompleteRoutine(c) => {
                    self.logs.entry(Month::of(c.moment.date)).or_default().routines.push(c.clone())
                }
                _ => {}
            }
        }
        match personal {
            Some(p) => self.personal = p,
            None => self.personal.apply(changes),
        }
        self.derived = derived;
        self.mark_saved(pending);
        self.count_write();
        self.compact_after_write(&targets).await;
        Ok(())
    }

    async fn write_docs(
        &mut self,
        changes: &[Change],
        targets: &[DocKind],
        new_kinds: &[DocKind],
        now_ms: i64,
        batch: &mut Batch,
    ) -> Result<Vec<Pending>> {
        let root = self.root;
        for kind in targets {
            let loaded = self.load_cached(*kind).await?;
            for change in changes.iter().filter(|c| schema::target(c) == *kind) {
                schema::write(&mut loaded.doc, change)?;
            }
            loaded.doc.commit_with(commit_options(now_ms));
        }
        let mut touched = targets.to_vec();
        if !new_kinds.is_empty() {
            let account = self.load_cached(DocKind::Account).await?;
            for kind in new_kinds {
                schema::register_doc(&mut account.doc, root, *kind)?;
            }
            account.doc.commit_with(commit_options(now_ms));
            if !touched.contains(&DocKind::Account) {
                touched.push(DocKind::Account);
            }
        }
        for kind in new_kinds {
            batch.new_docs.push((kind.id_in(root), kind.label()));
        }
        let mut pending = Vec::new();
        for kind in touched {
            if let Some(p) = self.docs.get_mut(&kind).and_then(|l| l.unsaved(kind, kind.id_in(root))) {
                batch.chunks.push(p.chunk.clone());
                pending.push(p);
            }
        }
        for change in changes {
            match change {
                Change::CompleteAction(c) => batch
                    .added_entries
                    .push((DocKind::Log(Month::of(c.moment.date)).id_in(root), LogEntry::Action(c.clone()))),
                Change::CompleteRoutine(c) => batch
                    .added_entries
                    .push((DocKind::Log(Month::of(c.moment.date)).id_in(root), LogEntry::Routine(c.clone()))),
                _ => {}
            }
        }
        Ok(pending)
    }

    /// Writes a settings change to the account root.
    pub(crate) async fn write_account(
        &mut self,
        now_ms: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<(), mingizuk_core::RuleError>,
    ) -> Result<()> {
        let id = DocKind::Account.id_in(self.root);
        let loaded = self.load_cached(DocKind::Account).await?;
        edit(&mut loaded.doc)?;
        loaded.doc.commit_with(commit_options(now_ms));
        let account = schema::read_account(&loaded.doc)?;
        let pending: Vec<Pending> = loaded.unsaved(DocKind::Account, id).into_iter().collect();
        let mut batch = Batch { chunks: pending.iter().map(|p| p.chunk.clone()).collect(), ..Batch::default() };
        self.mark_write(&mut batch);
        if let Err(e) = self.store.commit(&batch).await {
            self.forget(&[DocKind::Account]);
            return Err(e);
        }
        self.mark_saved(pending);
        self.personal.account = account;
        self.count_write();
        Ok(())
    }

    /// Drops documents from memory so that the next use reloads what is stored.
    pub(super) fn forget(&mut self, kinds: &[DocKind]) {
        for kind in kinds.iter().chain([DocKind::Account].iter()) {
            self.docs.remove(kind);
        }
    }

    /// Records that chunks were committed.
    pub(super) fn mark_saved(&mut self, pending: Vec<Pending>) {
        for p in pending {
            if let Some(loaded) = self.docs.get_mut(&p.kind) {
                loaded.saved = p.heads;
                loaded.chunks.push(p.chunk.hash);
            }
        }
    }
}
