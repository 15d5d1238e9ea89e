import { beforeEach, describe, expect, it } from 'vitest';
import { refreshSyncStatus, session, takeSyncStatusEvent, waitingCount } from './session.svelte';
import type { SyncStatus } from './types';

const syncing: SyncStatus = { phase: 'syncing', changes_waiting: true, last_error: null, confirmed_writes: 0, writes_waiting: 2 };
const upToDate: SyncStatus = { phase: 'up_to_date', changes_waiting: false, last_error: null, confirmed_writes: 4, writes_waiting: 0 };

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

  it('counts the changes waiting only while the server has not confirmed them', () => {
    expect(waitingCount(null)).toBe(0);
    expect(waitingCount(syncing)).toBe(2);
    expect(waitingCount({ ...syncing, phase: 'offline', writes_waiting: 7 })).toBe(7);
    expect(waitingCount(upToDate)).toBe(0);
    // A connection that has not compared heads yet says changes may wait, none counted.
    expect(waitingCount({ ...syncing, writes_waiting: 0 })).toBe(0);
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
