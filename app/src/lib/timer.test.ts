import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTION_SECONDS, actionTimer, type TimerState } from './timer';

describe('the player timer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs five seconds, counting down each second, then offers completion', () => {
    const seen: TimerState[] = [];
    const timer = actionTimer((s) => seen.push(s));
    expect(ACTION_SECONDS).toBe(5);
    timer.start();
    expect(timer.state()).toEqual({ remaining: 5, running: true, finished: false });
    vi.advanceTimersByTime(4999);
    expect(timer.state().finished).toBe(false);
    expect(timer.state().remaining).toBe(1);
    vi.advanceTimersByTime(1);
    expect(timer.state()).toEqual({ remaining: 0, running: false, finished: true });
    expect(seen.map((s) => s.remaining)).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it('ignores a second start while running and stops ticking once finished', () => {
    const onChange = vi.fn();
    const timer = actionTimer(onChange);
    timer.start();
    vi.advanceTimersByTime(2000);
    timer.start();
    expect(timer.state().remaining).toBe(3);
    vi.advanceTimersByTime(10_000);
    const calls = onChange.mock.calls.length;
    vi.advanceTimersByTime(10_000);
    expect(onChange.mock.calls.length).toBe(calls);
  });

  it('can be cancelled, and started again from the top', () => {
    const timer = actionTimer(() => {});
    timer.start();
    vi.advanceTimersByTime(3000);
    timer.cancel();
    expect(timer.state()).toEqual({ remaining: 0, running: false, finished: false });
    vi.advanceTimersByTime(5000);
    expect(timer.state().finished).toBe(false);
    timer.start();
    expect(timer.state().remaining).toBe(5);
  });
});
