// The JSON the shell's commands return, written from the Rust structs they serialize
// (client/src/views.rs, client/src/engine.rs, core/src/history.rs, core/src/fold.rs,
// core/src/catalog.rs, client/src/sync/). Field names are the Rust names: serde writes them as
// they are (snake_case); enums are `rename_all = "snake_case"`. Dates (`NaiveDate`) are
// "YYYY-MM-DD" strings; ids (`Uuid`) are strings.

/** `core::catalog::Character`. */
export type Character = 'mingi' | 'muneo' | 'mongsil';
export const CHARACTERS: readonly Character[] = ['mingi', 'muneo', 'mongsil'];

/** `core::catalog::ActionKind`. */
export type ActionKind = 'stretching' | 'body';

/** One action of the catalog (`catalog` command). */
export interface CatalogAction {
  id: string;
  kind: ActionKind;
  name_ko: string;
  name_en: string;
  hint_ko: string;
  hint_en: string;
}

/** `client::views::EntryView`. */
export interface EntryView {
  id: string;
  action: string;
  kind: ActionKind;
  name_ko: string;
  name_en: string;
  hint_ko: string;
  hint_en: string;
  count: number;
  /** Done in the current cycle. */
  done: boolean;
}

/** `client::views::RoutineView`. */
export interface RoutineView {
  id: string;
  name: string;
  /** English name of a preset; null for a custom routine. */
  name_en: string | null;
  preset: boolean;
  is_main: boolean;
  cycle: number;
  entries: EntryView[];
  done_count: number;
  complete: boolean;
  completed_cycles: number;
}

/** `client::views::CharacterView`. */
export interface CharacterView {
  character: Character;
  exp: number;
  level: number;
  max_level: number;
  /** 1 (Lv 1–3), 2 (Lv 4–6) or 3 (Lv 7–10). */
  look: 1 | 2 | 3;
  /** Progress within the level, in thousandths. */
  gauge_permille: number;
}

/** `core::history::TrackerDay`. */
export interface TrackerDay {
  date: string;
  marked: boolean;
  actions: number;
}

/** `core::history::MonthGrid`. */
export interface MonthGrid {
  year: number;
  month: number;
  /** Weekday of the 1st, 0 = Sunday … 6 = Saturday. */
  first_weekday: number;
  days: TrackerDay[];
}

/** `core::history::Streaks`. */
export interface Streaks {
  current: number;
  best: number;
}

/** `client::views::Home`. */
export interface Home {
  today: string;
  character: CharacterView | null;
  drawable: Character[];
  main: RoutineView | null;
  /** Whether a cycle of the main routine was completed today (device local date). */
  done_today: boolean;
  today_exp: number;
  daily_exp_cap: number;
  tracker: MonthGrid;
  streaks: Streaks;
}

/** `core::fold::Collected`. */
export interface Collected {
  character: Character;
  drawn_at_ms: number;
  completed_at_ms: number;
}

/** `client::views::Collection`. */
export interface Collection {
  growing: CharacterView | null;
  collected: Collected[];
  drawable: Character[];
}

/** `core::history::ChartMode`. */
export type ChartMode = 'actions' | 'routines';

/** `core::history::Bar`. */
export interface Bar {
  date: string;
  count: number;
  today: boolean;
}

/** `core::history::WeekPage`. */
export interface WeekPage {
  week: number;
  mode: ChartMode;
  bars: Bar[];
  current_week: number;
  day_number: number;
}

/** `client::views::Stats`; `action_totals` is a Rust `Vec<(String, u32)>`: pairs. */
export interface Stats {
  streaks: Streaks;
  total_exp: number;
  action_totals: [string, number][];
  started_on: string;
  day_number: number;
}

/** `client::engine::Completed`. */
export interface Completed {
  exp_gained: number;
  routine_completed: boolean;
}

/** The `limits` command. */
export interface Limits {
  routine_name_max: number;
  routine_actions_max: number;
  action_count_max: number;
  meetup_title_max: number;
  meetup_contents_max: number;
  comment_max: number;
  message_max: number;
  nickname_max: number;
  password_min: number;
  password_max: number;
  /** The largest export file `import_data` takes. */
  import_max_bytes: number;
}

/** An export written by `export_data`. */
export interface Exported {
  /** The file, in the downloads folder unless MINGIZUK_EXPORT_DIR says otherwise. */
  path: string;
}

/** What `import_data` added; `already_there` counts the file's records the device had. */
export interface ImportReport {
  routines: number;
  completions: number;
  draws: number;
  already_there: number;
}

/** The `settings` command. */
export interface Settings {
  language: 'ko' | 'en';
  /** Minutes after local midnight, or null for no reminder. */
  reminder_minutes: number | null;
  onboarded: boolean;
}

/** `client::sync::api::UserInfo`. */
export interface UserInfo {
  id: string;
  email: string;
  nickname: string;
  /** `local`, `google`, `kakao` or `naver`; null in a session saved by an older version. */
  provider: string | null;
}

/** The `account` command. */
export interface Account {
  user: UserInfo | null;
  server_url: string;
}

/** `client::sync::task::SyncPhase`. */
export type SyncPhase = 'offline' | 'syncing' | 'up_to_date';

/** `client::sync::task::SyncStatus`. */
export interface SyncStatus {
  phase: SyncPhase;
  changes_waiting: boolean;
  last_error: string | null;
  confirmed_writes: number;
  /** How many of this device's changes the server has not confirmed yet. */
  writes_waiting: number;
}

/** One action of a routine being written (`create_routine` / `edit_routine`). */
export interface RoutinePick {
  action: string;
  count: number;
}

export type SocialProvider = 'google' | 'kakao' | 'naver';

export type MeetupRole = 'host' | 'member' | 'liked';
