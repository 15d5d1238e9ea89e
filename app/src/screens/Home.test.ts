import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { answer, fakeState } from '../test/fakeEngine';
import { routine } from '../test/fixtures';
import Home from './Home.svelte';

describe('the habit tracker on home', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('adds up quick clicks and shows the month asked for last, whatever order the answers come in', async () => {
    const state = fakeState();
    const asked: { month: string; answer: () => void }[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd !== 'tracker_month') return answer(state, cmd, a);
      const grid = answer(state, cmd, a);
      return new Promise((resolve) => asked.push({ month: `${a.year}-${a.month}`, answer: () => resolve(grid) }));
    });
    render(Home, { ongo: vi.fn() });
    await screen.findByText('2026년 11월');
    await fireEvent.click(screen.getByTestId('tracker-prev'));
    await fireEvent.click(screen.getByTestId('tracker-prev'));
    expect(asked.map((a) => a.month)).toEqual(['2026-10', '2026-9']);
    asked[1].answer();
    asked[0].answer();
    await screen.findByText('2026년 9월');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.getByText('2026년 9월')).toBeTruthy();
    expect(screen.getAllByTestId('tracker-day')[0].dataset.date).toBe('2026-09-01');
  });

  it('says today’s routine is done only on a day a round of it was completed', async () => {
    const state = fakeState();
    state.character = 'muneo';
    state.routines = [routine(['sit_stand', 'neck_roll'], ['sit_stand', 'neck_roll'])];
    mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>));
    render(Home, { ongo: vi.fn() });
    await screen.findByTestId('main-routine');
    expect(screen.queryByText('오늘의 루틴을 모두 마쳤어요! 🎉')).toBeNull();
    cleanup();
    state.doneToday = true;
    render(Home, { ongo: vi.fn() });
    expect(await screen.findByText('오늘의 루틴을 모두 마쳤어요! 🎉')).toBeTruthy();
  });
});
