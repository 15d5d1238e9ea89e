import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { answer, fakeState } from '../test/fakeEngine';
import { routine } from '../test/fixtures';
import Routines from './Routines.svelte';

describe('the routines screen', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('offers to try again when the routines cannot be read, instead of loading forever', async () => {
    const state = fakeState();
    state.fail.routines = 'storage_failed';
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>));
    render(Routines);
    const retry = await screen.findByRole('button', { name: '다시 시도' });
    expect(screen.queryByText('불러오는 중…')).toBeNull();
    delete state.fail.routines;
    await fireEvent.click(retry);
    await fireEvent.click(screen.getByTestId('tab-presets'));
    await vi.waitFor(() => expect(screen.getAllByTestId('routine-card')).toHaveLength(1));
    expect(screen.queryByRole('button', { name: '다시 시도' })).toBeNull();
  });

  it('switches the main routine and starts the old one over in one command', async () => {
    const state = fakeState();
    state.routines = [routine(['sit_stand', 'neck_roll'], ['sit_stand']), ...state.routines];
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>));
    render(Routines);
    await fireEvent.click(await screen.findByTestId('tab-presets'));
    await fireEvent.click(await screen.findByTestId('routine-set-main'));
    await fireEvent.click(await screen.findByTestId('confirm-ok'));
    await vi.waitFor(() => expect(state.routines.find((r) => r.id === 'preset-1')?.is_main).toBe(true));
    const writes = state.calls.filter(([cmd]) => ['switch_main', 'set_main', 'reset_cycle'].includes(cmd));
    expect(writes).toEqual([['switch_main', { id: 'preset-1', reset: 'routine-1' }]]);
  });
});
