import { describe, expect, it } from 'vitest';
import { midCycle, nextEntryIndex, openLabelKey } from './player';
import type { EntryView, RoutineView } from './types';

function entry(id: string, done: boolean): EntryView {
  return { id, action: id, kind: 'body', name_ko: id, name_en: id, hint_ko: '', hint_en: '', count: 10, done };
}

function routine(done: boolean[]): RoutineView {
  const entries = done.map((d, i) => entry(`e${i}`, d));
  const count = done.filter(Boolean).length;
  return {
    id: 'r',
    name: 'r',
    name_en: null,
    preset: false,
    is_main: true,
    cycle: 0,
    entries,
    done_count: count,
    complete: count === done.length,
    completed_cycles: 0,
  };
}

describe('the player steps', () => {
  it('plays the first action not done, then the following one', () => {
    expect(nextEntryIndex(routine([false, false, false]))).toBe(0);
    expect(nextEntryIndex(routine([true, false, false]))).toBe(1);
    expect(nextEntryIndex(routine([true, false, true]), 1)).toBe(1);
    expect(nextEntryIndex(routine([false, true, false]), 0)).toBe(2);
    expect(nextEntryIndex(routine([true, true, true]))).toBe(-1);
  });

  it('names the button by where the cycle stands', () => {
    expect(openLabelKey(routine([false, false]))).toBe('player.start_routine');
    expect(openLabelKey(routine([true, false]))).toBe('player.continue');
    expect(openLabelKey(routine([true, true]))).toBe('player.restart');
  });

  it('asks before switching the main routine only mid-cycle', () => {
    expect(midCycle(routine([false, false]))).toBe(false);
    expect(midCycle(routine([true, false]))).toBe(true);
    expect(midCycle(routine([true, true]))).toBe(false);
  });
});
