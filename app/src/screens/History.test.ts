import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { answer, fakeState } from '../test/fakeEngine';
import History from './History.svelte';

describe('the history screen', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('asks for the week and mode the user picks, and stops at the first and current weeks', async () => {
    const state = fakeState();
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>));
    render(History);
    await vi.waitFor(() => expect(screen.getByTestId('week-title').textContent).toBe('밍기적 2주차'));
    expect((screen.getByTestId('week-next') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('chart-mode-routines'));
    await vi.waitFor(() => expect(state.calls.at(-1)).toEqual(['week_page', { week: null, mode: 'routines' }]));
    await fireEvent.click(screen.getByTestId('week-prev'));
    await vi.waitFor(() => expect(screen.getByTestId('week-title').textContent).toBe('밍기적 1주차'));
    expect(state.calls.at(-1)).toEqual(['week_page', { week: 1, mode: 'routines' }]);
    expect((screen.getByTestId('week-prev') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getAllByTestId('chart-bar')).toHaveLength(7);
    expect(screen.getByTestId('streak-current').textContent).toBe('1일');
    expect(screen.getAllByTestId('action-total').map((li) => li.dataset.actionId)).toEqual(['squat', 'neck_roll']);
  });
});
