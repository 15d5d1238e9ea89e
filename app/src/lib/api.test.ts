import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import * as api from './api';
import { errorText, setLang } from './i18n.svelte';
import { CommandError } from './ipc';
import './strings';

describe('the commands', () => {
  afterEach(() => {
    clearMocks();
    setLang('ko');
  });

  it('sends each command its arguments by their JavaScript names', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'create_routine' ? 'routine-id' : null;
    });
    expect(await api.createRoutine('하체', [{ action: 'squat', count: 10 }])).toBe('routine-id');
    await api.completeAction('r', 'e');
    await api.weekPage(null, 'routines');
    await api.signOut(true);
    await api.editProfile({ password: 'new password', currentPassword: 'old password' });
    await api.setMain(null);
    await api.switchMain('new', 'old');
    await api.cancelSocialSignIn();
    expect(calls).toEqual([
      ['create_routine', { name: '하체', picks: [{ action: 'squat', count: 10 }] }],
      ['complete_action', { routine: 'r', entry: 'e' }],
      ['week_page', { week: null, mode: 'routines' }],
      ['sign_out', { keepLocal: true, discardUnsynced: false }],
      ['edit_profile', { password: 'new password', currentPassword: 'old password' }],
      ['set_main', { id: null }],
      ['switch_main', { id: 'new', reset: 'old' }],
      ['cancel_social_sign_in', {}],
    ]);
  });

  it('turns a refusal into a CommandError that the user reads in their language', async () => {
    mockIPC(() => {
      throw { code: 'routine_name_taken', message: 'the name is taken' };
    });
    const error = await api.createRoutine('하체', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ code: 'routine_name_taken', message: 'the name is taken' });
    expect(errorText(error)).toBe('같은 이름의 루틴이 이미 있어요');
    setLang('en');
    expect(errorText(error)).toBe('You already have a routine with that name');
  });

  it('keeps the reason and details of a refused import', async () => {
    mockIPC(() => {
      throw { code: 'invalid_import', message: 'newer', reason: 'newer_version', details: { version: 9 } };
    });
    const error = await api.importData('{}').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_import', reason: 'newer_version', details: { version: 9 } });
  });

  it('names a failure without a code `internal`', async () => {
    mockIPC(() => {
      throw 'the shell fell over';
    });
    const error = await api.home().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'internal' });
    expect(errorText(error)).toBe('문제가 생겼어요. 잠시 후 다시 시도해주세요');
  });

  it('follows the sync-status event', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const { emit } = await import('@tauri-apps/api/event');
    const seen: string[] = [];
    const stop = await api.onSyncStatus((s) => seen.push(s.phase));
    await emit('sync-status', { phase: 'syncing', changes_waiting: true, last_error: null, confirmed_writes: 0, writes_waiting: 2 });
    await emit('sync-status', { phase: 'up_to_date', changes_waiting: false, last_error: null, confirmed_writes: 3, writes_waiting: 0 });
    stop();
    expect(seen).toEqual(['syncing', 'up_to_date']);
  });
});
