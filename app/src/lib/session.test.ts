import { beforeEach, describe, expect, it } from 'vitest';
import { refreshSyncStatus, session, takeSyncStatusEvent } from './session.svelte';
import type { SyncStatus } from './types';

const syncing: SyncStatus = { phase: 'syncing', changes_waiting: true, last_error: null, confirmed_writes: 0 };
const upToDate: SyncStatus = { phase: 'up_to_date', changes_waiting: false, last_error: null, confirmed_writes: 4 };

/** A `sync_status` read whose answer the test hands over when it likes. */
function pendingRead() {
  let answer: (status: SyncStatus) => void = () => {};
  const read = () => new Promise<SyncStatus>((resolve) => (answer = resolve));
  return { read, answer: (status: SyncStatus) => answer(status) };
}

describe('the sync indicator', () => {
  beforeEach(() => {
    session.sync = null;
  });

  it('shows the status read at start when no event has said anything', async () => {
    await refreshSyncStatus(async () => syncing);
    expect(session.sync).toEqual(syncing);
  });

  it('stays up to date when a read made while syncing is answered after the up-to-date event', async () => {
    const { read, answer } = pendingRead();
    const refreshing = refreshSyncStatus(read);
    takeSyncStatusEvent(upToDate);
    answer(syncing);
    await refreshing;
    expect(session.sync).toEqual(upToDate);
  });

  it('follows every event in the order they came', () => {
    takeSyncStatusEvent(syncing);
    takeSyncStatusEvent(upToDate);
    expect(session.sync).toEqual(upToDate);
  });

  it('a finished sync makes the screens reload', () => {
    const before = session.revision;
    takeSyncStatusEvent(syncing);
    expect(session.revision).toBe(before);
    takeSyncStatusEvent(upToDate);
    expect(session.revision).toBe(before + 1);
  });
});
