import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { session } from '../lib/session.svelte';
import { answer, fakeState } from '../test/fakeEngine';
import Me from './Me.svelte';

describe('signing out', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
    session.user = null;
  });

  it('warns before wiping records the server has not got, and wipes only when the user insists', async () => {
    const state = fakeState();
    const signOuts: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd !== 'sign_out') return answer(state, cmd, a);
      signOuts.push(a);
      if (!a.keepLocal && !a.discardUnsynced) throw { code: 'unsynced_changes', message: 'changes wait' };
      return null;
    });
    session.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };
    const onaccount = vi.fn();
    render(Me, { onaccount });
    await fireEvent.click(await screen.findByTestId('sign-out'));
    await fireEvent.click(screen.getByTestId('confirm-alt'));
    expect(await screen.findByText('아직 서버에 올라가지 않은 기록이 있을 수 있어요')).toBeTruthy();
    expect((screen.getByTestId('sign-out') as HTMLButtonElement).disabled).toBe(false);
    expect(session.user).not.toBeNull();
    expect(onaccount).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('confirm-alt'));
    await vi.waitFor(() => expect(onaccount).toHaveBeenCalled());
    expect(signOuts).toEqual([
      { keepLocal: false, discardUnsynced: false },
      { keepLocal: false, discardUnsynced: true },
    ]);
    expect(session.user).toBeNull();
  });

  it('cannot start a second sign-out while one waits for sync', async () => {
    const state = fakeState();
    let finish: (value: unknown) => void = () => {};
    mockIPC((cmd, args) => (cmd === 'sign_out' ? new Promise((resolve) => (finish = resolve)) : answer(state, cmd, args as Record<string, unknown>)));
    session.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };
    render(Me, { onaccount: vi.fn() });
    await fireEvent.click(await screen.findByTestId('sign-out'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await vi.waitFor(() => expect((screen.getByTestId('sign-out') as HTMLButtonElement).disabled).toBe(true));
    expect((screen.getByTestId('delete-account') as HTMLButtonElement).disabled).toBe(true);
    finish(null);
    await vi.waitFor(() => expect(session.user).toBeNull());
  });
});
