//! What the screens ask of the engine: the routines with their cycle progress, the home screen,
//! the tracker, the weekly chart, streaks and the character collection. Read-only.

use chrono::NaiveDate;
use mingizuk_core::catalog::{self, ActionKind, Character};
use mingizuk_core::fold::{self, Collected, Derived};
use mingizuk_core::history::{self, ChartMode, MonthGrid, Streaks, WeekPage};
use mingizuk_core::limits::{DAILY_EXP_CAP, MAX_LEVEL};
use mingizuk_core::model::{EntryId, Language, Moment, Personal, Routine, RoutineId};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::{ClientError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: EntryId,
    pub action: String,
    pub kind: ActionKind,
    pub name_ko: String,
    pub name_en: String,
    pub hint_ko: String,
    pub hint_en: String,
    pub count: u8,
    /// Done in the current cycle.
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineView {
    pub id: RoutineId,
    pub name: String,
    /// English name of a preset (custom routines have the one name their user gave).
    pub name_en: Option<String>,
    pub preset: bool,
    pub is_main: bool,
    /// The number of the current cycle (1, 2, …).
    pub cycle: u32,
    pub entries: Vec<EntryView>,
    pub done_count: usize,
    /// Every action of the cycle is done: the player offers "restart".
    pub complete: bool,
    /// Completed cycles so far.
    pub completed_cycles: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterView {
    pub character: Character,
    pub exp: u32,
    pub level: u32,
    pub max_level: u32,
    /// 1 (Lv 1–3), 2 (Lv 4–6) or 3 (Lv 7–10).
    pub look: u8,
    /// Progress within the level, in thousandths.
    pub gauge_permille: u32,
}

impl CharacterView {
    fn of(character: Character, exp: u32) -> CharacterView {
        let level = fold::level(exp);
        CharacterView {
            character,
            exp,
            level,
            max_level: MAX_LEVEL,
            look: fold::look(level),
            gauge_permille: fold::gauge_permille(exp),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Home {
    pub today: NaiveDate,
    pub character: Option<CharacterView>,
    /// Characters the user may draw now (empty while one grows).
    pub drawable: Vec<Character>,
    pub main: Option<RoutineView>,
    /// A cycle of the main routine was completed today (local date), on this device or across
    /// several: "today's routine is done". `main.complete` only says the current cycle is
    /// complete, which stays true on later days until the user restarts it.
    pub done_today: bool,
    pub today_exp: u32,
    pub daily_exp_cap: u32,
    pub tracker: MonthGrid,
    pub streaks: Streaks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub growing: Option<CharacterView>,
    pub collected: Vec<Collected>,
    pub drawable: Vec<Character>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub streaks: Streaks,
    pub total_exp: u64,
    /// Completed actions per catalog action id.
    pub action_totals: Vec<(String, u32)>,
    pub started_on: NaiveDate,
    /// "밍기적 시작한지 N일 째 되는 날"
    pub day_number: u32,
}

/// The synced settings of the account (or of the device before sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub language: Language,
    /// The daily reminder, in minutes after local midnight.
    pub reminder_minutes: Option<u16>,
}

fn routine_view(personal: &Personal, derived: &Derived, routine: &Routine) -> RoutineView {
    let cycle = personal.current_cycle(routine);
    let done = personal.done_in_cycle(routine, cycle);
    let entries = routine
        .entries
        .iter()
        .map(|e| {
            let action = catalog::action(&e.action);
            EntryView {
                id: e.id,
                action: e.action.clone(),
                kind: action.map_or(ActionKind::Stretching, |a| a.kind),
                name_ko: action.map_or(e.action.as_str(), |a| a.name_ko).to_owned(),
                name_en: action.map_or(e.action.as_str(), |a| a.name_en).to_owned(),
                hint_ko: action.map_or("", |a| a.hint_ko).to_owned(),
                hint_en: action.map_or("", |a| a.hint_en).to_owned(),
                count: e.count,
                done: done.contains(&e.id),
            }
        })
        .collect();
    RoutineView {
        id: routine.id,
        name: routine.name.clone(),
        name_en: catalog::preset(routine.id).map(|p| p.name_en.to_owned()),
        preset: routine.preset,
        is_main: personal.account.main_routine == Some(routine.id),
        cycle: routine.cycle_number(cycle),
        entries,
        done_count: done.len(),
        complete: personal.cycle_complete(routine, cycle),
        completed_cycles: derived.routine_totals.get(&routine.id).copied().unwrap_or(0),
    }
}

impl Engine {
    fn today(&self) -> Result<NaiveDate> {
        let now = self.clock.now_ms();
        Moment::new(now, self.clock.offset_minutes(now))
            .map(|m| m.date)
            .ok_or_else(|| ClientError::Invalid(format!("the clock is out of range: {now}")))
    }

    /// The live routines: presets first, then the user's own, oldest first.
    pub async fn routines(&self) -> Vec<RoutineView> {
        let state = self.state.lock().await;
        let mut routines: Vec<&Routine> = state.personal.live_routines().collect();
        routines.sort_by_key(|r| (!r.preset, r.created_at_ms, r.id));
        routines.iter().map(|r| routine_view(&state.personal, &state.derived, r)).collect()
    }

    pub async fn routine(&self, id: RoutineId) -> Result<RoutineView> {
        let state = self.state.lock().await;
        let routine =
            state.personal.routines.get(&id).filter(|r| !r.deleted).ok_or(mingizuk_core::RuleError::RoutineNotFound)?;
        Ok(routine_view(&state.personal, &state.derived, routine))
    }

    pub async fn home(&self) -> Result<Home> {
        let today = self.today()?;
        let state = self.state.lock().await;
        let (personal, derived) = (&state.personal, &state.derived);
        Ok(Home {
            today,
            character: derived.growing.map(|g| CharacterView::of(g.character, g.exp)),
            drawable: derived.drawable(),
            main: personal.main_routine().map(|r| routine_view(personal, derived, r)),
            done_today: personal.main_routine().is_some_and(|r| personal.routine_completed_on(r, today)),
            today_exp: derived.days.get(&today).map_or(0, |d| d.exp),
            daily_exp_cap: DAILY_EXP_CAP,
            tracker: history::month_grid(derived, chrono::Datelike::year(&today), chrono::Datelike::month(&today))
                .ok_or_else(|| ClientError::Invalid("no such month".into()))?,
            streaks: history::streaks(derived, today),
        })
    }

    /// The habit tracker of a month.
    pub async fn tracker_month(&self, year: i32, month: u32) -> Result<MonthGrid> {
        let state = self.state.lock().await;
        history::month_grid(&state.derived, year, month)
            .ok_or_else(|| ClientError::Invalid(format!("no month {year}-{month}")))
    }

    /// A page of the weekly chart; `week` None means the current week.
    pub async fn week_page(&self, week: Option<u32>, mode: ChartMode) -> Result<WeekPage> {
        let today = self.today()?;
        let state = self.state.lock().await;
        let start = history::start_date(&state.derived, state.personal.account.started_on(), today);
        Ok(history::week_page(&state.derived, start, today, week.unwrap_or(u32::MAX), mode))
    }

    pub async fn stats(&self) -> Result<Stats> {
        let today = self.today()?;
        let state = self.state.lock().await;
        let start = history::start_date(&state.derived, state.personal.account.started_on(), today);
        Ok(Stats {
            streaks: history::streaks(&state.derived, today),
            total_exp: state.derived.total_exp,
            action_totals: state.derived.action_totals.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            started_on: start,
            day_number: u32::try_from((today - start).num_days()).unwrap_or(0) + 1,
        })
    }

    pub async fn collection(&self) -> Collection {
        let state = self.state.lock().await;
        let d = &state.derived;
        Collection {
            growing: d.growing.map(|g| CharacterView::of(g.character, g.exp)),
            collected: d.collection.clone(),
            drawable: d.drawable(),
        }
    }

    pub async fn settings(&self) -> Settings {
        let state = self.state.lock().await;
        Settings {
            language: state.personal.account.language,
            reminder_minutes: state.personal.account.reminder_minutes,
        }
    }

    /// Whether a cycle of the main routine was completed today (local date), recorded or implied
    /// by actions done on several devices: what the daily reminder asks. False with no main
    /// routine.
    pub async fn main_routine_done_today(&self) -> Result<bool> {
        let today = self.today()?;
        let state = self.state.lock().await;
        let personal = &state.personal;
        Ok(personal.main_routine().is_some_and(|main| personal.routine_completed_on(main, today)))
    }

    /// The whole derived state (for tests and tools).
    pub async fn derived(&self) -> Derived {
        self.state.lock().await.derived.clone()
    }

    /// The merged personal data (for tests and tools).
    pub async fn personal(&self) -> Personal {
        self.state.lock().await.personal.clone()
    }

    /// What the device's database holds (documents, chunks, snapshots).
    pub async fn storage_stats(&self) -> Result<crate::store::StorageStats> {
        self.state.lock().await.store.stats().await
    }

    /// The per-day projection as stored in SQLite (it must always equal the derived days).
    pub async fn stored_day_totals(&self) -> Result<Vec<(NaiveDate, fold::DayTotals)>> {
        self.state.lock().await.store.all_day_totals().await
    }
}
