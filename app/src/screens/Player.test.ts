import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { routine } from '../test/fixtures';
import Player from './Player.svelte';

describe('the workout player', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    cleanup();
    clearMocks();
    vi.useRealTimers();
  });

  it('runs the 5-second timer, completes the action and moves to the next', async () => {
    let current = routine(['neck_roll', 'squat'], ['neck_roll']);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'complete_action') {
        current = routine(['neck_roll', 'squat'], ['neck_roll', 'squat']);
        return { exp_gained: 240, routine_completed: true };
      }
      if (cmd === 'routine') return current;
      if (cmd === 'restart_cycle') {
        current = routine(['neck_roll', 'squat']);
        return null;
      }
      return null;
    });
    const onchanged = vi.fn();
    render(Player, { routine: current, character: null, onclose: vi.fn(), onchanged });

    expect(screen.getByTestId('player-progress').textContent).toBe('2/2');
    expect(screen.getByTestId('player-action-name').textContent).toBe('스쿼트');
    await fireEvent.click(screen.getByTestId('player-start'));
    expect(screen.getByText('한 동작 진행중...')).toBeTruthy();
    expect(screen.getByTestId('player-timer').textContent).toBe('5초');
    await act(() => vi.advanceTimersByTime(4000));
    expect(screen.queryByTestId('player-complete')).toBeNull();
    await act(() => vi.advanceTimersByTime(1000));
    await fireEvent.click(screen.getByTestId('player-complete'));
    await vi.waitFor(() => expect(screen.getByTestId('player-restart')).toBeTruthy());
    expect(calls[0]).toEqual(['complete_action', { routine: 'routine-1', entry: 'entry-squat' }]);
    expect(screen.getByText('+240 EXP')).toBeTruthy();
    expect(onchanged).toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId('player-restart'));
    await vi.waitFor(() => expect(screen.getByTestId('player-progress').textContent).toBe('1/2'));
    expect(screen.getByTestId('player-action-name').textContent).toBe('목 돌리기');
  });

  it('offers home or the next action after a single action', async () => {
    let current = routine(['neck_roll', 'squat']);
    mockIPC((cmd) => {
      if (cmd === 'complete_action') {
        current = routine(['neck_roll', 'squat'], ['neck_roll']);
        return { exp_gained: 100, routine_completed: false };
      }
      return current;
    });
    const onclose = vi.fn();
    render(Player, { routine: current, character: null, onclose, onchanged: vi.fn() });
    await fireEvent.click(screen.getByTestId('player-start'));
    await act(() => vi.advanceTimersByTime(5000));
    await fireEvent.click(screen.getByTestId('player-complete'));
    await vi.waitFor(() => expect(screen.getByTestId('player-next')).toBeTruthy());
    await fireEvent.click(screen.getByTestId('player-next'));
    expect(screen.getByTestId('player-progress').textContent).toBe('2/2');
    expect(screen.getByTestId('player-action-name').textContent).toBe('스쿼트');
    await fireEvent.keyDown(screen.getByTestId('player'), { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });

  it('keeps the keyboard in the player while the timer runs, where the start button was', async () => {
    const current = routine(['neck_roll', 'squat']);
    mockIPC(() => current);
    render(Player, { routine: current, character: null, onclose: vi.fn(), onchanged: vi.fn() });
    const start = screen.getByTestId('player-start');
    start.focus();
    await fireEvent.click(start);
    // The start button gave way to the timer: the focus fell to the page.
    expect(screen.queryByTestId('player-start')).toBeNull();
    expect(document.activeElement).toBe(document.body);
    // Nothing in the player can take the keyboard now but the player itself.
    await fireEvent.keyDown(document.body, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByTestId('player'));
    await fireEvent.keyDown(document.activeElement!, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(screen.getByTestId('player'));
    await act(() => vi.advanceTimersByTime(5000));
    expect(document.activeElement).toBe(screen.getByTestId('player-complete'));
  });
});
