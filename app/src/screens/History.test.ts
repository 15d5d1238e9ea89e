import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import type { ChartMode, WeekPage } from '../lib/types';
import { answer, fakeState } from '../test/fakeEngine';
import History from './History.svelte';

function weekPage(week: number, mode: ChartMode): WeekPage {
  // Routines are counted in tens here, so the bars tell the mode apart.
  const bars = Array.from({ length: 7 }, (_, i) => ({ date: `2026-11-${String(i + 1).padStart(2, '0')}`, count: mode === 'routines' ? i * 10 : i, today: false }));
  return { week, mode, current_week: 5, day_number: 30, bars };
}

/** A shell whose `week_page` answers wait until the test hands them out, in any order. */
function slowWeeks() {
  const state = fakeState();
  const asked: { week: number | null; mode: ChartMode; answer: () => void }[] = [];
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd !== 'week_page') return answer(state, cmd, a);
    const week = (a.week as number | null) ?? 5;
    return new Promise((resolve) => asked.push({ week: a.week as number | null, mode: a.mode as ChartMode, answer: () => resolve(weekPage(week, a.mode as ChartMode)) }));
  });
  return asked;
}

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

  it('adds up quick clicks and shows the week asked for last, whatever order the answers come in', async () => {
    const asked = slowWeeks();
    render(History);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    asked[0].answer();
    await vi.waitFor(() => expect(screen.getByTestId('week-title').textContent).toBe('밍기적 5주차'));
    await fireEvent.click(screen.getByTestId('week-prev'));
    await fireEvent.click(screen.getByTestId('week-prev'));
    await vi.waitFor(() => expect(asked.map((a) => a.week)).toEqual([null, 4, 3]));
    asked[2].answer();
    asked[1].answer();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.getByTestId('week-title').textContent).toBe('밍기적 3주차');
  });

  it('shows the chart of the mode chosen last, whatever order the answers come in', async () => {
    const asked = slowWeeks();
    render(History);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('chart-mode-routines'));
    await vi.waitFor(() => expect(asked).toHaveLength(2));
    asked[1].answer();
    asked[0].answer();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.getByTestId('chart-mode-routines').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getAllByTestId('chart-bar').map((bar) => bar.dataset.count)).toEqual(['0', '10', '20', '30', '40', '50', '60']);
  });

  it('offers to try again when the week cannot be read', async () => {
    const state = fakeState();
    state.fail.week_page = 'storage_failed';
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>));
    render(History);
    const retry = await screen.findByRole('button', { name: '다시 시도' });
    expect(screen.queryByText('불러오는 중…')).toBeNull();
    delete state.fail.week_page;
    await fireEvent.click(retry);
    await vi.waitFor(() => expect(screen.getByTestId('week-title').textContent).toBe('밍기적 2주차'));
    expect(screen.getAllByTestId('chart-bar')).toHaveLength(7);
  });
});
