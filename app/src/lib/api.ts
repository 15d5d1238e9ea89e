// One typed function per command of src-tauri/COMMANDS.md "Personal" and "Account and sync".
// Nothing here decides anything: arguments in (camelCase, Tauri maps them to snake_case), the
// engine's JSON out, a `CommandError` on failure.
import type { Comment, Meetup } from '../meetups/types';
import { call, listenTo } from './ipc';
import type {
  Account,
  CatalogAction,
  MeetupRole,
  Character,
  ChartMode,
  Collection,
  Completed,
  Exported,
  Home,
  ImportReport,
  Limits,
  MonthGrid,
  RoutinePick,
  RoutineView,
  Settings,
  SocialProvider,
  Stats,
  SyncStatus,
  UserInfo,
  WeekPage,
} from './types';

export const home = () => call<Home>('home');
export const catalog = () => call<CatalogAction[]>('catalog');
export const limits = () => call<Limits>('limits');
export const routines = () => call<RoutineView[]>('routines');
export const routine = (id: string) => call<RoutineView>('routine', { id });
export const createRoutine = (name: string, picks: RoutinePick[]) => call<string>('create_routine', { name, picks });
export const editRoutine = (id: string, name: string, picks: RoutinePick[]) => call<void>('edit_routine', { id, name, picks });
export const deleteRoutine = (id: string) => call<void>('delete_routine', { id });
export const setMain = (id: string | null) => call<void>('set_main', { id });
/** Makes `id` the main routine and, in the same write, starts `reset`'s cycle over (or neither). */
export const switchMain = (id: string | null, reset: string | null) => call<void>('switch_main', { id, reset });
export const resetCycle = (routine: string) => call<void>('reset_cycle', { routine });
export const restartCycle = (routine: string) => call<void>('restart_cycle', { routine });
export const completeAction = (routine: string, entry: string) => call<Completed>('complete_action', { routine, entry });
export const drawCharacter = () => call<Character>('draw_character');
export const collection = () => call<Collection>('collection');
export const trackerMonth = (year: number, month: number) => call<MonthGrid>('tracker_month', { year, month });
export const weekPage = (week: number | null, mode: ChartMode) => call<WeekPage>('week_page', { week, mode });
export const stats = () => call<Stats>('stats');
export const settings = () => call<Settings>('settings');
export const setLanguage = (language: 'ko' | 'en') => call<void>('set_language', { language });
export const setReminder = (minutes: number | null) => call<void>('set_reminder', { minutes });
export const finishOnboarding = () => call<void>('finish_onboarding');
export const exportData = (format: 'json' | 'csv') => call<Exported>('export_data', { format });
export const importData = (json: string) => call<ImportReport>('import_data', { json });

export const account = () => call<Account>('account');
export const signUp = (email: string, password: string, nickname: string) =>
  call<UserInfo>('sign_up', { email, password, nickname });
export const signIn = (email: string, password: string) => call<UserInfo>('sign_in', { email, password });
export const socialSignIn = (provider: SocialProvider) => call<UserInfo>('social_sign_in', { provider });
/** Gives up a social sign-in waiting for the browser: it fails with `sign_in_cancelled`. */
export const cancelSocialSignIn = () => call<void>('cancel_social_sign_in');
/** Answers a sign-in refused with `other_account_data`: the data another account left on this device
 *  joins the account signing in. */
export const attachOtherAccountData = () => call<UserInfo>('attach_other_account_data');
/** Gives up a sign-in refused with `other_account_data`: signed out, the device's data untouched. */
export const cancelSignIn = () => call<void>('cancel_sign_in');
export interface ProfileChanges {
  nickname?: string;
  password?: string;
  currentPassword?: string;
}
export const editProfile = (changes: ProfileChanges) => call<UserInfo>('edit_profile', { ...changes });
/**
 * Signs out. Removing the device's data is refused with `unsynced_changes` while the server lacks
 * changes made here, unless `discardUnsynced` (the user agreed to lose them).
 */
export const signOut = (keepLocal: boolean, discardUnsynced = false) =>
  call<void>('sign_out', { keepLocal, discardUnsynced });
export const deleteAccount = (keepLocal: boolean, discardUnsynced = false) =>
  call<void>('delete_account', { keepLocal, discardUnsynced });
export const syncStatus = () => call<SyncStatus>('sync_status');

/** Follows the `sync-status` event; returns the unsubscribe. */
export const onSyncStatus = (handler: (status: SyncStatus) => void) => listenTo<SyncStatus>('sync-status', handler);

// "My meetups" on the me screen (PRODUCT.md §8); the meetups tab owns every other meetup command.
export const myMeetups = (role: MeetupRole) => call<Meetup[]>('my_meetups', { role });
export const myComments = () => call<Comment[]>('my_comments');

/** The first home screen is painted (the shell records it for the app benchmark). */
export const painted = (): Promise<void> => call<void>('painted');
