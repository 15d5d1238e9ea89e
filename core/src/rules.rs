//! The rules of every user action on personal data. Each `plan_*` function checks the action
//! against the merged data and returns the changes to write, or the rule it breaks; it writes
//! nothing. The caller applies the changes to the documents (`schema`) and to its in-memory
//! `Personal` (`Personal::apply`), which gives the same result as reading the documents back.

use std::collections::HashSet;

use uuid::Uuid;

use crate::catalog;
use crate::error::RuleError;
use crate::fold::Derived;
use crate::limits::{ACTION_COUNT_MAX, ACTION_COUNT_MIN, ROUTINE_MAX_ACTIONS, ROUTINE_NAME_MAX_CHARS};
use crate::model::{
    ActionCompletion, CompletionKey, Cycle, CycleInfo, CycleKey, CycleStart, Draw, Entry, EntryId, Moment, Personal,
    Routine, RoutineCompletion, RoutineId,
};

/// One change to personal data. `ImportRoutine` is a routine restored from an export file
/// (`export::plan_import_at`): created as `CreateRoutine` is, its stored copy marked as imported.
/// Another device of the account may hold the routine already, and the two copies then meet under
/// one key: reading the routines document prefers the other device's copy (`schema::read_routines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateRoutine(Routine),
    ImportRoutine(Routine),
    EditRoutine { id: RoutineId, name: String, entries: Vec<Entry> },
    DeleteRoutine(RoutineId),
    SetMain(Option<RoutineId>),
    StartCycle { routine: RoutineId, cycle: Cycle, info: CycleInfo },
    CompleteAction(ActionCompletion),
    CompleteRoutine(RoutineCompletion),
    Draw(Draw),
}

/// A routine's action as the user picks it: a catalog action id and a count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ActionPick {
    pub action: String,
    pub count: u8,
}

/// Trims and checks a routine name: 1–30 characters, unique among live routines (presets
/// included) other than `except`.
pub fn check_routine_name(personal: &Personal, name: &str, except: Option<RoutineId>) -> Result<String, RuleError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RuleError::NameEmpty);
    }
    if name.chars().count() > ROUTINE_NAME_MAX_CHARS {
        return Err(RuleError::NameTooLong { max: ROUTINE_NAME_MAX_CHARS });
    }
    // A routine keeping its own name is never refused: two devices may have created the same
    // name concurrently, and that must not lock either routine against edits.
    let unchanged = except.and_then(|id| personal.routines.get(&id)).is_some_and(|r| r.name == name);
    if !unchanged && personal.live_routines().any(|r| Some(r.id) != except && r.name == name) {
        return Err(RuleError::NameTaken(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// Checks a routine's actions: 1–5 distinct catalog actions, each counted 1–99.
pub fn check_picks(picks: &[ActionPick]) -> Result<(), RuleError> {
    if picks.is_empty() {
        return Err(RuleError::NoActions);
    }
    if picks.len() > ROUTINE_MAX_ACTIONS {
        return Err(RuleError::TooManyActions { max: ROUTINE_MAX_ACTIONS });
    }
    let mut seen = HashSet::new();
    for pick in picks {
        if catalog::action(&pick.action).is_none() {
            return Err(RuleError::UnknownAction(pick.action.clone()));
        }
        if !(ACTION_COUNT_MIN..=ACTION_COUNT_MAX).contains(&pick.count) {
            return Err(RuleError::CountOutOfRange { min: ACTION_COUNT_MIN, max: ACTION_COUNT_MAX });
        }
        if !seen.insert(pick.action.as_str()) {
            return Err(RuleError::DuplicateAction(pick.action.clone()));
        }
    }
    Ok(())
}

fn live_routine(personal: &Personal, id: RoutineId) -> Result<&Routine, RuleError> {
    let routine = personal.routines.get(&id).ok_or(RuleError::RoutineNotFound)?;
    if routine.deleted {
        return Err(RuleError::RoutineDeleted);
    }
    Ok(routine)
}

fn editable_routine(personal: &Personal, id: RoutineId) -> Result<&Routine, RuleError> {
    let routine = live_routine(personal, id)?;
    if routine.preset {
        return Err(RuleError::PresetReadOnly);
    }
    Ok(routine)
}

pub fn plan_create_routine(
    personal: &Personal,
    id: RoutineId,
    name: &str,
    picks: &[ActionPick],
    new_id: &mut dyn FnMut() -> Uuid,
    now_ms: i64,
) -> Result<Vec<Change>, RuleError> {
    let name = check_routine_name(personal, name, None)?;
    check_picks(picks)?;
    let entries = picks.iter().map(|p| Entry { id: new_id(), action: p.action.clone(), count: p.count }).collect();
    Ok(vec![Change::CreateRoutine(Routine {
        id,
        name,
        preset: false,
        entries,
        created_at_ms: now_ms,
        deleted: false,
        cycles: Default::default(),
    })])
}

/// Edits a routine. An entry whose action and count stay the same keeps its id (and so its
/// completion in the current cycle); any other entry is new and inherits nothing. The new list
/// applies to the current cycle at once. A cycle that was complete is recorded first, so that
/// adding an action never takes back a bonus already earned.
pub fn plan_edit_routine(
    personal: &Personal,
    id: RoutineId,
    name: &str,
    picks: &[ActionPick],
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Vec<Change>, RuleError> {
    let routine = editable_routine(personal, id)?;
    let name = check_routine_name(personal, name, Some(id))?;
    check_picks(picks)?;
    let mut unused: Vec<&Entry> = routine.entries.iter().collect();
    let entries = picks
        .iter()
        .map(|p| match unused.iter().position(|e| e.action == p.action && e.count == p.count) {
            Some(i) => unused.remove(i).clone(),
            None => Entry { id: new_id(), action: p.action.clone(), count: p.count },
        })
        .collect();
    let mut changes: Vec<Change> =
        personal.implied_routine_completion(routine).map(Change::CompleteRoutine).into_iter().collect();
    changes.push(Change::EditRoutine { id, name, entries });
    Ok(changes)
}

pub fn plan_delete_routine(personal: &Personal, id: RoutineId) -> Result<Vec<Change>, RuleError> {
    editable_routine(personal, id)?;
    let mut changes = vec![Change::DeleteRoutine(id)];
    if personal.account.main_routine == Some(id) {
        changes.push(Change::SetMain(None));
    }
    Ok(changes)
}

pub fn plan_set_main(personal: &Personal, id: Option<RoutineId>) -> Result<Vec<Change>, RuleError> {
    if let Some(id) = id {
        live_routine(personal, id)?;
    }
    Ok(vec![Change::SetMain(id)])
}

/// Makes `id` the main routine and, in the same changes, clears the current cycle of `reset` (the
/// main routine being replaced, when the user chose to reset it). Refused whole when either is
/// refused: a switch never resets the old main and leaves it main. A `reset` that is no longer
/// the main routine (changed on another device since the user was asked) is left alone. `fresh`
/// names the cycle a reset starts (`plan_reset`).
pub fn plan_switch_main(
    personal: &Personal,
    id: Option<RoutineId>,
    reset: Option<RoutineId>,
    fresh: FreshCycle,
) -> Result<Vec<Change>, RuleError> {
    let mut changes = match reset {
        Some(old) if personal.account.main_routine == Some(old) => plan_reset(personal, old, fresh)?,
        _ => Vec::new(),
    };
    changes.extend(plan_set_main(personal, id)?);
    Ok(changes)
}

/// What a cycle the planned action may start is named by: a fresh UUID from the caller (the core
/// has no randomness of its own) for a restart or reset, the account's root for a routine's
/// first cycle (`Cycle::first_of`); and the instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshCycle {
    pub id: uuid::Uuid,
    pub root: uuid::Uuid,
    pub at_ms: i64,
}

/// Completes one action of a routine's current cycle. A character must be growing (unless the
/// collection is complete), and each entry is done once per cycle. When this is the last
/// action of the cycle, the routine completion is recorded too. The first completion of a routine
/// no cycle was started for starts its first cycle, named by the account (`Cycle::first_of`).
pub fn plan_complete_action(
    personal: &Personal,
    derived: &Derived,
    routine: RoutineId,
    entry: EntryId,
    moment: Moment,
    fresh: FreshCycle,
) -> Result<Vec<Change>, RuleError> {
    let routine = live_routine(personal, routine)?;
    if derived.growing.is_none() && !derived.drawable().is_empty() {
        return Err(RuleError::NeedCharacter);
    }
    let entry = routine.entry(entry).ok_or(RuleError::EntryNotInRoutine)?;
    let mut cycle = personal.current_cycle(routine);
    let key = CompletionKey { routine: routine.id, cycle, entry: entry.id };
    if personal.actions.contains_key(&key) || personal.cycle_complete(routine, cycle) {
        return Err(RuleError::AlreadyCompleted);
    }
    let mut changes = Vec::new();
    if cycle == Cycle::FIRST && personal.done_in_cycle(routine, cycle).is_empty() {
        cycle = Cycle::first_of(fresh.root, routine.id);
        let info = CycleInfo { number: 1, start: CycleStart::First, at_ms: fresh.at_ms };
        changes.push(Change::StartCycle { routine: routine.id, cycle, info });
        // Another device of the account started it already and did this entry, and its log came
        // before its routines: the two completions are one, the earlier stands. Writing this one
        // over it would lose it; the device only learns of the cycle.
        let key = CompletionKey { routine: routine.id, cycle, entry: entry.id };
        if personal.actions.contains_key(&key) || personal.cycle_complete(routine, cycle) {
            return Ok(changes);
        }
    }
    let key = CompletionKey { routine: routine.id, cycle, entry: entry.id };
    let completion = ActionCompletion { key, action: entry.action.clone(), count: entry.count, moment };
    changes.push(Change::CompleteAction(completion));
    let remaining = routine
        .entries
        .iter()
        .filter(|e| e.id != entry.id)
        .all(|e| personal.actions.contains_key(&CompletionKey { routine: routine.id, cycle, entry: e.id }));
    if remaining {
        changes.push(Change::CompleteRoutine(RoutineCompletion {
            key: CycleKey { routine: routine.id, cycle },
            actions: routine.entries.len().min(usize::from(u8::MAX)) as u8,
            moment,
        }));
    }
    Ok(changes)
}

/// The cycle that follows the routine's current one, under `fresh`'s id. Cycle numbers come from
/// synced or imported documents too, so the last one a `u32` holds may be current: nothing comes
/// after it.
fn next_cycle(
    personal: &Personal,
    routine: &Routine,
    start: CycleStart,
    fresh: FreshCycle,
) -> Result<Change, RuleError> {
    let number = personal.current_number(routine).checked_add(1).ok_or(RuleError::CycleLimit)?;
    let info = CycleInfo { number, start, at_ms: fresh.at_ms };
    Ok(Change::StartCycle { routine: routine.id, cycle: Cycle::Id(fresh.id), info })
}

/// Starts the next cycle; allowed only when the current one is complete.
pub fn plan_restart(personal: &Personal, id: RoutineId, fresh: FreshCycle) -> Result<Vec<Change>, RuleError> {
    let routine = live_routine(personal, id)?;
    if !personal.cycle_complete(routine, personal.current_cycle(routine)) {
        return Err(RuleError::CycleNotComplete);
    }
    let mut changes: Vec<Change> =
        personal.implied_routine_completion(routine).map(Change::CompleteRoutine).into_iter().collect();
    changes.push(next_cycle(personal, routine, CycleStart::Restart, fresh)?);
    Ok(changes)
}

/// Clears the current cycle: a fresh cycle starts; what was done stays in the history. A cycle
/// with nothing done needs no reset.
pub fn plan_reset(personal: &Personal, id: RoutineId, fresh: FreshCycle) -> Result<Vec<Change>, RuleError> {
    let routine = live_routine(personal, id)?;
    let cycle = personal.current_cycle(routine);
    if personal.done_in_cycle(routine, cycle).is_empty() && !personal.cycle_complete(routine, cycle) {
        return Ok(Vec::new());
    }
    let mut changes: Vec<Change> =
        personal.implied_routine_completion(routine).map(Change::CompleteRoutine).into_iter().collect();
    changes.push(next_cycle(personal, routine, CycleStart::Reset, fresh)?);
    Ok(changes)
}

/// Draws a character at random among those not collected. `roll` is a random number the caller
/// supplies (the core has no randomness of its own).
pub fn plan_draw(derived: &Derived, id: Uuid, at_ms: i64, roll: u32) -> Result<Vec<Change>, RuleError> {
    if derived.growing.is_some() {
        return Err(RuleError::CharacterGrowing);
    }
    let drawable = derived.drawable();
    if drawable.is_empty() {
        return Err(RuleError::CollectionComplete);
    }
    let character = drawable[roll as usize % drawable.len()];
    Ok(vec![Change::Draw(Draw { id, character, at_ms })])
}

impl Personal {
    /// Applies changes to the in-memory data exactly as writing them to the documents and
    /// reading them back would.
    pub fn apply(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                // Replacing is what the document does: a device imports only a routine it does
                // not know, so its copy is the only one it reads until it merges another's.
                Change::CreateRoutine(r) | Change::ImportRoutine(r) => {
                    self.routines.insert(r.id, r.clone());
                }
                Change::EditRoutine { id, name, entries } => {
                    if let Some(r) = self.routines.get_mut(id) {
                        r.name = name.clone();
                        r.entries = entries.clone();
                    }
                }
                Change::DeleteRoutine(id) => {
                    if let Some(r) = self.routines.get_mut(id) {
                        r.deleted = true;
                    }
                }
                Change::SetMain(id) => self.account.main_routine = *id,
                Change::StartCycle { routine, cycle, info } => {
                    if let Some(r) = self.routines.get_mut(routine) {
                        let slot = r.cycles.entry(*cycle).or_insert(*info);
                        *slot = slot.merge(*info);
                    }
                }
                Change::CompleteAction(c) => {
                    self.absorb(&crate::model::Log { actions: vec![c.clone()], routines: vec![] })
                }
                Change::CompleteRoutine(c) => {
                    self.absorb(&crate::model::Log { actions: vec![], routines: vec![c.clone()] })
                }
                Change::Draw(d) => {
                    // Kept in the order the documents are read in (instant, then id): a draw may
                    // be dated before one already known, from a device whose clock runs ahead.
                    let draws = &mut self.account.draws;
                    draws.retain(|x| x.id != d.id);
                    let at = draws.partition_point(|x| (x.at_ms, x.id) < (d.at_ms, d.id));
                    draws.insert(at, *d);
                }
            }
        }
    }
}
