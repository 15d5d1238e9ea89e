//! The local-first engine: every user action on personal data, applied to the Automerge
//! documents, stored durably in SQLite together with its projection, and folded into the
//! derived state. Works with no network; merging another replica's documents is one call.
//!
//! One `Engine` owns one database file. Calls are serialized by an internal lock, so the app
//! can share the engine between tasks.

use std::path::Path;
use std::sync::Arc;

use mingizuk_core::RuleError;
use mingizuk_core::export::{self, ImportReason, ImportRefusal, ImportReport};
use mingizuk_core::fold::Derived;
use mingizuk_core::limits::IMPORT_MAX_BYTES;
use mingizuk_core::model::{Moment, Personal, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change};
use mingizuk_core::schema;
use mingizuk_core::schema::DocKind;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::clock::Clock;
use crate::documents::{OtherAccountData, State};
use crate::error::{ClientError, Result};

/// A whole document as exchanged between replicas (the sync server carries the same bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentBytes {
    pub id: Uuid,
    pub kind: DocKind,
    pub bytes: Vec<u8>,
}

pub struct Engine {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: Mutex<State>,
    /// This device's id; a new one after [`Engine::wipe`].
    device: std::sync::Mutex<Uuid>,
    pub(crate) local_writes: tokio::sync::watch::Receiver<u64>,
    /// How many of them the server was last known to hold (kept across restarts).
    pub(crate) confirmed_writes: tokio::sync::watch::Receiver<u64>,
    /// The database's lock, held while the engine is open: two engines on one database would each
    /// keep their own copy of the documents and their projection in memory, neither seeing the
    /// other's writes.
    _lock: std::fs::File,
}

impl Engine {
    /// Opens (or creates, on first launch) the engine's database at `path`. A new device is
    /// usable at once: presets are there and no account is needed.
    /// `DataInUse` while another engine, in this process or another, has it open.
    pub async fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Engine> {
        let lock = lock(path)?;
        let (state, device) = State::open(path, clock.as_ref()).await?;
        let local_writes = state.local_writes.subscribe();
        let confirmed_writes = state.writes_confirmed.subscribe();
        Ok(Engine {
            clock,
            state: Mutex::new(state),
            device: std::sync::Mutex::new(device),
            local_writes,
            confirmed_writes,
            _lock: lock,
        })
    }

    /// This device's id (its sync peer id; its changes are written by a new actor each time the
    /// database opens).
    pub fn device_id(&self) -> Uuid {
        *self.device.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub async fn root_id(&self) -> Uuid {
        self.state.lock().await.root
    }

    fn moment(&self) -> Result<Moment> {
        let now = self.clock.now_ms();
        Moment::new(now, self.clock.offset_minutes(now))
            .ok_or_else(|| ClientError::Invalid(format!("the clock is out of range: {now}")))
    }

    /// Creates a custom routine and returns its id.
    pub async fn create_routine(&self, name: &str, picks: &[ActionPick]) -> Result<RoutineId> {
        let id = Uuid::new_v4();
        let now = self.clock.now_ms();
        self.apply(|p, _| rules::plan_create_routine(p, id, name, picks, &mut Uuid::new_v4, now)).await?;
        Ok(id)
    }

    pub async fn edit_routine(&self, id: RoutineId, name: &str, picks: &[ActionPick]) -> Result<()> {
        self.apply(|p, _| rules::plan_edit_routine(p, id, name, picks, &mut Uuid::new_v4)).await
    }

    pub async fn delete_routine(&self, id: RoutineId) -> Result<()> {
        self.apply(|p, _| rules::plan_delete_routine(p, id)).await
    }

    /// Picks the main routine (or none).
    pub async fn set_main(&self, id: Option<RoutineId>) -> Result<()> {
        self.apply(|p, _| rules::plan_set_main(p, id)).await
    }

    /// Picks the main routine (or none) and clears the current cycle of `reset` (the main routine
    /// it replaces, when the user chose to reset it) in one write: both happen, or neither.
    pub async fn switch_main(&self, id: Option<RoutineId>, reset: Option<RoutineId>) -> Result<()> {
        self.apply_starting(|p, fresh| rules::plan_switch_main(p, id, reset, fresh)).await
    }

    /// Completes one action of the routine's current cycle, now, here.
    pub async fn complete_action(&self, routine: RoutineId, entry: Uuid) -> Result<Completed> {
        let moment = self.moment()?;
        let mut state = self.state.lock().await;
        let before = state.derived.total_exp;
        let fresh = self.fresh_cycle(state.root);
        let changes = rules::plan_complete_action(&state.personal, &state.derived, routine, entry, moment, fresh)?;
        state.write(&changes, self.clock.now_ms()).await?;
        Ok(Completed {
            exp_gained: u32::try_from(state.derived.total_exp - before).unwrap_or(u32::MAX),
            routine_completed: changes.iter().any(|c| matches!(c, Change::CompleteRoutine(_))),
        })
    }

    /// Starts the next cycle of a completed routine.
    pub async fn restart(&self, routine: RoutineId) -> Result<()> {
        self.apply_starting(|p, fresh| rules::plan_restart(p, routine, fresh)).await
    }

    /// Clears the routine's current cycle (what was done stays in the history).
    pub async fn reset(&self, routine: RoutineId) -> Result<()> {
        self.apply_starting(|p, fresh| rules::plan_reset(p, routine, fresh)).await
    }

    /// What names a cycle the next action may start, in the account whose root is `root`.
    fn fresh_cycle(&self, root: Uuid) -> rules::FreshCycle {
        rules::FreshCycle { id: Uuid::new_v4(), root, at_ms: self.clock.now_ms() }
    }

    /// `apply` for a plan that may start a cycle.
    async fn apply_starting(
        &self,
        plan: impl FnOnce(&Personal, rules::FreshCycle) -> Result<Vec<Change>, mingizuk_core::RuleError>,
    ) -> Result<()> {
        let mut state = self.state.lock().await;
        let changes = plan(&state.personal, self.fresh_cycle(state.root))?;
        state.write(&changes, self.clock.now_ms()).await
    }

    /// Draws a character at random among those not yet collected.
    pub async fn draw_character(&self) -> Result<mingizuk_core::catalog::Character> {
        let id = Uuid::new_v4();
        let now = self.clock.now_ms();
        let roll: u32 = rand::random();
        let mut state = self.state.lock().await;
        let changes = rules::plan_draw(&state.derived, id, now, roll)?;
        state.write(&changes, now).await?;
        match changes.first() {
            Some(Change::Draw(d)) => Ok(d.character),
            _ => Err(ClientError::Invalid("the draw produced no character".into())),
        }
    }

    pub async fn set_language(&self, language: mingizuk_core::model::Language) -> Result<()> {
        let mut state = self.state.lock().await;
        state.write_account(self.clock.now_ms(), |doc| schema::set_language(doc, language)).await
    }

    /// Sets (or clears) the daily reminder, in minutes after local midnight.
    pub async fn set_reminder(&self, minutes: Option<u16>) -> Result<()> {
        if minutes.is_some_and(|m| m >= 24 * 60) {
            return Err(ClientError::Invalid("a reminder time is within one day".into()));
        }
        let mut state = self.state.lock().await;
        state.write_account(self.clock.now_ms(), |doc| schema::set_reminder(doc, minutes)).await
    }

    async fn apply(
        &self,
        plan: impl FnOnce(&Personal, &Derived) -> Result<Vec<Change>, mingizuk_core::RuleError>,
    ) -> Result<()> {
        let mut state = self.state.lock().await;
        let changes = plan(&state.personal, &state.derived)?;
        state.write(&changes, self.clock.now_ms()).await
    }

    /// All personal data as an export file (JSON, every id kept): see `core::export`.
    pub async fn export_json(&self) -> Result<String> {
        let state = self.state.lock().await;
        let file = export::export(&state.personal, self.clock.now_ms());
        serde_json::to_string_pretty(&file).map_err(|e| ClientError::Invalid(format!("cannot write the export: {e}")))
    }

    /// The history as CSV, with names in the account's language.
    pub async fn export_csv(&self) -> Result<String> {
        let state = self.state.lock().await;
        Ok(export::history_csv(&state.personal, state.personal.account.language))
    }

    /// Imports an export file: what the device lacks is added (and syncs like any change),
    /// what it has is left alone. A file that is not a valid export changes nothing.
    pub async fn import(&self, json: &str) -> Result<ImportReport> {
        if json.len() > IMPORT_MAX_BYTES {
            let mb = IMPORT_MAX_BYTES / (1024 * 1024);
            let refusal = ImportRefusal::new(ImportReason::TooBig, format!("an export file is at most {mb} MB"));
            return Err(RuleError::from(refusal.max(mb)).into());
        }
        let file = export::parse(json)?;
        let now = self.clock.now_ms();
        let mut state = self.state.lock().await;
        let plan = export::plan_import_at(&state.personal, &file, now)?;
        // Nothing imported is dated after the device's clock: a completion's month names a log
        // document, and a file must not create documents (or a last event) in years to come. (Only
        // here: a device's own writes may carry another device's later time, a cycle completed
        // by the last of its actions synced from a device whose clock runs ahead.)
        export::check_dated_by(&plan.changes, now)?;
        state.write(&plan.changes, now).await?;
        if !plan.started.is_empty() {
            state
                .write_account(now, |doc| {
                    plan.started.iter().try_for_each(|(device, date)| schema::record_start(doc, device, *date))
                })
                .await?;
        }
        Ok(plan.report)
    }

    /// Every document of this device, whole: what another replica needs to catch up.
    pub async fn export_documents(&self) -> Result<Vec<DocumentBytes>> {
        self.state.lock().await.export().await
    }

    /// Merges documents of another replica of this account into this device's. Documents of
    /// another account, or that do not parse, are refused whole and change nothing.
    pub async fn merge_documents(&self, docs: &[DocumentBytes]) -> Result<()> {
        let mut state = self.state.lock().await;
        state.merge(docs).await
    }

    /// Attaches this device's data to the account whose root document is `root` (signing in):
    /// the device's documents take the account's ids, so that the account's documents merge
    /// into them field by field. Nothing logged on the device is lost. Data that another account
    /// left here (signed out keeping it) is refused with `other_account_data`, changing nothing.
    pub async fn adopt_account(&self, root: Uuid) -> Result<()> {
        let mut state = self.state.lock().await;
        state.adopt(root, OtherAccountData::Refuse, self.clock.now_ms()).await
    }

    /// As [`Engine::adopt_account`], also when the data is another account's: the user chose to
    /// merge it into the account `root` (say, they deleted the old account and want its history).
    pub async fn adopt_other_account_data(&self, root: Uuid) -> Result<()> {
        let mut state = self.state.lock().await;
        state.adopt(root, OtherAccountData::Merge, self.clock.now_ms()).await
    }

    /// Removes everything this device holds and starts over as on first launch: presets, no
    /// history, a new local root and a new device id. Used when signing out with "remove data".
    /// (A new id: to the account, the device that comes after is another device.)
    pub async fn wipe(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        let device = Uuid::new_v4();
        state.wipe(device, self.clock.as_ref()).await?;
        *self.device.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = device;
        Ok(())
    }

    /// Housekeeping for idle moments (the app calls it when nothing happens for a while):
    /// compacts the documents in memory that gathered many chunks.
    pub async fn maintain(&self) -> Result<()> {
        self.state.lock().await.maintain().await
    }

    /// Closes the database cleanly.
    pub async fn close(self) -> Result<()> {
        self.state.into_inner().store.close().await
    }
}

/// Takes the lock of the database at `path` (a `.lock` file beside it; the operating system
/// releases it when the process ends, however it ends). A file system that cannot lock files
/// opens unlocked, as before.
fn lock(path: &Path) -> Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(name).map_err(sqlx::Error::Io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ClientError::DataInUse),
        Err(std::fs::TryLockError::Error(e)) => {
            tracing::warn!(error = %e, "the device's database cannot be locked; opening it unlocked");
            Ok(file)
        }
    }
}

/// What completing an action earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    /// Exp added today by this completion (after the daily cap), bonus included.
    pub exp_gained: u32,
    /// This was the last action of the cycle: the routine is complete.
    pub routine_completed: bool,
}
