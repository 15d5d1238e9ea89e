import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasEnded, msUntilEnd, whenEnded } from './ending';

const ends = '2030-05-01T08:00:00Z';
const at = (offsetMs: number) => Date.parse(ends) + offsetMs;
const open = { ended: false, ends_at: ends };

describe('whether a meetup has ended', () => {
  it('has not ended before its end time', () => {
    expect(hasEnded(open, at(-1))).toBe(false);
  });

  it('has ended from its end time on, even when the copy was fetched before the end', () => {
    expect(hasEnded(open, at(0))).toBe(true);
    expect(hasEnded(open, at(60_000))).toBe(true);
  });

  it('has ended when the server says so, whatever the clock', () => {
    expect(hasEnded({ ended: true, ends_at: ends }, at(-3_600_000))).toBe(true);
  });

  it('ends only by the server when its end time cannot be read', () => {
    expect(hasEnded({ ended: false, ends_at: 'not a date' }, at(0))).toBe(false);
    expect(hasEnded({ ended: true, ends_at: 'not a date' }, at(0))).toBe(true);
  });
});

describe('how long until a meetup ends', () => {
  it('counts the time left to its end time', () => {
    expect(msUntilEnd(open, at(-5000))).toBe(5000);
    expect(msUntilEnd(open, at(-1))).toBe(1);
  });

  it('agrees with whether it has ended: nothing is left once it has', () => {
    for (const offset of [-1, 0, 1]) {
      expect(msUntilEnd(open, at(offset)) === null).toBe(hasEnded(open, at(offset)));
    }
    expect(msUntilEnd({ ended: true, ends_at: ends }, at(-5000))).toBeNull();
    expect(msUntilEnd({ ended: false, ends_at: 'not a date' }, 0)).toBeNull();
  });

  it('counts past what one timer can wait for a far end', () => {
    expect(msUntilEnd(open, Date.parse('2029-01-01T00:00:00Z'))).toBeGreaterThan(2 ** 31 - 1);
  });
});

describe('following a meetup to its end', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells once, when the end comes', () => {
    vi.useFakeTimers({ now: at(-5000) });
    const onEnd = vi.fn();
    whenEnded(open, onEnd);
    vi.advanceTimersByTime(4999);
    expect(onEnd).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onEnd).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('tells at once when the meetup has ended already, by the server or by the clock', () => {
    vi.useFakeTimers({ now: at(-5000) });
    const byServer = vi.fn();
    whenEnded({ ended: true, ends_at: ends }, byServer);
    expect(byServer).toHaveBeenCalledTimes(1);
    vi.setSystemTime(at(1));
    const byClock = vi.fn();
    whenEnded(open, byClock);
    expect(byClock).toHaveBeenCalledTimes(1);
  });

  it('waits for an end weeks away, beyond what one timer can wait', () => {
    const weeks = 40 * 24 * 3_600_000;
    vi.useFakeTimers({ now: at(-weeks) });
    const onEnd = vi.fn();
    whenEnded(open, onEnd);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(onEnd).not.toHaveBeenCalled();
    vi.advanceTimersByTime(weeks - (2 ** 31 - 1));
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('tells nothing once cancelled, nor for a meetup whose end cannot be read', () => {
    vi.useFakeTimers({ now: at(-5000) });
    const onEnd = vi.fn();
    whenEnded(open, onEnd)();
    whenEnded({ ended: false, ends_at: 'not a date' }, onEnd);
    vi.advanceTimersByTime(3_600_000);
    expect(onEnd).not.toHaveBeenCalled();
  });
});
