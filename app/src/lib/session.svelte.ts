// What every screen may read about the running app: the signed-in user, the sync status, the
// settings and the rule limits and catalog (read once). `revision` grows whenever the personal
// data may have changed under a screen (a sync finished, an account switched), so screens reload.
import type { CatalogAction, Limits, Settings, SyncStatus, UserInfo } from './types';

export const session = $state({
  user: null as UserInfo | null,
  sync: null as SyncStatus | null,
  settings: null as Settings | null,
  limits: null as Limits | null,
  catalog: [] as CatalogAction[],
  revision: 0,
});

/** Signals that the personal data may have changed. */
export function touch(): void {
  session.revision += 1;
}

/** Takes a new sync status; a sync that just finished may have brought other devices' data. */
export function takeSyncStatus(status: SyncStatus): void {
  const before = session.sync;
  session.sync = status;
  const finished =
    status.phase === 'up_to_date' &&
    (before === null || before.phase !== 'up_to_date' || before.confirmed_writes !== status.confirmed_writes);
  if (finished) touch();
}

/** How many changes the indicator says wait: the server has not confirmed them (none known yet
 *  before the first status). */
export function waitingCount(status: SyncStatus | null): number {
  return status?.changes_waiting ? status.writes_waiting : 0;
}

let statusEvents = 0;

/** Takes the status a `sync-status` event brought. Events arrive in the order the shell sent them
 *  and one is sent on every change, so the last one received is the latest status. */
export function takeSyncStatusEvent(status: SyncStatus): void {
  statusEvents += 1;
  takeSyncStatus(status);
}

/** Reads the status with `read` (the `sync_status` command) for when no event says it yet. The
 *  answer can arrive after an event sent later than it was read — taking it then would show
 *  "syncing" for good after the sync finished — so it is dropped if any event came meanwhile:
 *  that event, or one after it, is at least as new. */
export async function refreshSyncStatus(read: () => Promise<SyncStatus>): Promise<void> {
  const seen = statusEvents;
  const status = await read();
  if (statusEvents === seen) takeSyncStatus(status);
}
