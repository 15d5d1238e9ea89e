import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { answer, fakeState } from '../test/fakeEngine';
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
});
