// A small stand-in for the shell in component tests: answers the personal and account commands
// with the JSON shapes of src-tauri/COMMANDS.md and keeps a little state.
import type { Character, Collection, Home, MonthGrid, RoutineView, Settings, Stats, SyncStatus, WeekPage } from '../lib/types';
import { lookOf } from '../lib/characters/looks';
import { catalog, entry } from './fixtures';

export interface FakeState {
  settings: Settings;
  character: Character | null;
  exp: number;
  routines: RoutineView[];
  user: { id: string; email: string; nickname: string } | null;
  sync: SyncStatus;
  calls: [string, Record<string, unknown> | undefined][];
  /** Commands that fail, with the code they fail with. */
  fail: Record<string, string>;
  /** Whether a cycle of the main routine was completed today. */
  doneToday: boolean;
}

export function fakeState(): FakeState {
  const presets: RoutineView[] = [
    {
      id: 'preset-1',
      name: '움직이기 싫은 오늘, 기본만 하자!',
      name_en: 'A lazy day: just the basics!',
      preset: true,
      is_main: false,
      cycle: 0,
      entries: ['sit_stand', 'neck_roll', 'shoulder_roll'].map((a) => entry(a)),
      done_count: 0,
      complete: false,
      completed_cycles: 0,
    },
  ];
  return {
    settings: { language: 'ko', reminder_minutes: null, onboarded: false },
    character: null,
    exp: 0,
    routines: presets,
    user: null,
    sync: { phase: 'offline', changes_waiting: true, last_error: null, confirmed_writes: 0, writes_waiting: 2 },
    calls: [],
    fail: {},
    doneToday: false,
  };
}

const TODAY = '2026-11-26';

function month(year: number, m: number): MonthGrid {
  const days = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return {
    year,
    month: m,
    first_weekday: new Date(Date.UTC(year, m - 1, 1)).getUTCDay(),
    days: Array.from({ length: days }, (_, i) => {
      const date = `${year}-${String(m).padStart(2, '0')}-${String(i + 1).padStart(2, '0')}`;
      const marked = date === '2026-11-25';
      return { date, marked, actions: marked ? 3 : 0 };
    }),
  };
}

export function answer(state: FakeState, cmd: string, args?: Record<string, unknown>): unknown {
  const code = state.fail[cmd];
  if (code) throw { code, message: `${cmd} failed` };
  // A fresh copy each time, as JSON from the shell would be.
  return structuredClone(respond(state, cmd, args));
}

function respond(state: FakeState, cmd: string, args?: Record<string, unknown>): unknown {
  state.calls.push([cmd, args]);
  const level = Math.min(10, 1 + Math.floor(state.exp / 10000));
  const characterView = state.character
    ? { character: state.character, exp: state.exp, level, max_level: 10, look: lookOf(level), gauge_permille: Math.floor((state.exp % 10000) / 10) }
    : null;
  const main = state.routines.find((r) => r.is_main) ?? null;
  switch (cmd) {
    case 'settings':
      return state.settings;
    case 'finish_onboarding':
      state.settings.onboarded = true;
      return null;
    case 'account':
      return { user: state.user, server_url: 'http://127.0.0.1:8787' };
    case 'limits':
      return {
        routine_name_max: 30,
        routine_actions_max: 5,
        action_count_max: 99,
        meetup_title_max: 30,
        meetup_contents_max: 500,
        comment_max: 50,
        message_max: 250,
        nickname_max: 8,
        password_min: 8,
        password_max: 64,
        import_max_bytes: 32 * 1024 * 1024,
      };
    case 'catalog':
      return catalog;
    case 'sync_status':
      return state.sync;
    case 'home':
      return {
        today: TODAY,
        character: characterView,
        drawable: state.character ? [] : (['mingi', 'muneo', 'mongsil'] as Character[]),
        main,
        done_today: state.doneToday,
        today_exp: 0,
        daily_exp_cap: 2000,
        tracker: month(2026, 11),
        streaks: { current: 1, best: 4 },
      } satisfies Home;
    case 'tracker_month':
      return month(Number(args?.year), Number(args?.month));
    case 'draw_character':
      state.character = 'muneo';
      return state.character;
    case 'routines':
      return state.routines;
    case 'routine':
      return state.routines.find((r) => r.id === args?.id);
    case 'set_main':
      for (const r of state.routines) r.is_main = r.id === args?.id;
      return null;
    case 'switch_main':
      for (const r of state.routines) {
        if (r.id === args?.reset) {
          r.entries = r.entries.map((e) => ({ ...e, done: false }));
          r.done_count = 0;
          r.cycle += 1;
        }
        r.is_main = r.id === args?.id;
      }
      return null;
    case 'week_page': {
      const week = (args?.week as number | null) ?? 2;
      return {
        week,
        mode: args?.mode,
        current_week: 2,
        day_number: 10,
        bars: Array.from({ length: 7 }, (_, i) => {
          const date = `2026-11-${String(17 + (week - 1) * 7 + i).padStart(2, '0')}`;
          return { date, count: i, today: date === TODAY };
        }),
      } as WeekPage;
    }
    case 'stats':
      return { streaks: { current: 1, best: 4 }, total_exp: 1200, action_totals: [['squat', 12], ['neck_roll', 3]], started_on: '2026-11-17', day_number: 10 } satisfies Stats;
    case 'collection':
      return { growing: characterView, collected: [], drawable: [] } as Collection;
    case 'set_language':
      state.settings.language = args?.language as 'ko' | 'en';
      return null;
    case 'my_meetups':
      return args?.role === 'host'
        ? [{ id: 7, title: '한강 아침 스트레칭', starts_at: '2026-11-28T00:00:00Z', region: '서울 영등포구', member_count: 3, like_count: 5, ended: false }]
        : [];
    case 'meetups':
      return { items: [], next_cursor: null, offline: false };
    case 'outbox':
      return [];
    case 'my_comments':
      return [{ id: 1, meetup_id: 7, text: '저도 갈게요!', created_at: '2026-11-25T09:00:00Z' }];
    default:
      return null;
  }
}
