import { describe, expect, it } from 'vitest';
import { charCount, checkActions, checkRoutine, DEFAULT_LIMITS, parseCount, togglePick } from './routineForm';

const limits = DEFAULT_LIMITS;

describe('the routine form rules', () => {
  it('picks up to five actions and refuses a sixth', () => {
    let selected: string[] = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      const result = togglePick(selected, id, limits.routine_actions_max);
      expect(result.problem).toBeNull();
      selected = result.selected;
    }
    const sixth = togglePick(selected, 'f', limits.routine_actions_max);
    expect(sixth.problem).toEqual({ code: 'too_many_actions' });
    expect(sixth.selected).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('unpicks an action already picked, keeping the others in order', () => {
    expect(togglePick(['a', 'b', 'c'], 'b', 5)).toEqual({ selected: ['a', 'c'], problem: null });
  });

  it('needs at least one action', () => {
    expect(checkActions([], limits)).toEqual({ code: 'no_actions' });
    expect(checkActions(['a'], limits)).toBeNull();
  });

  it('counts a name in characters, not UTF-16 units, after trimming', () => {
    expect(charCount('밍기적')).toBe(3);
    expect(charCount('🙌🙌')).toBe(2);
    const picks = [{ action: 'squat', count: 10 }];
    expect(checkRoutine('   ', picks, limits)).toEqual({ code: 'name_empty' });
    expect(checkRoutine('가'.repeat(30), picks, limits)).toBeNull();
    expect(checkRoutine('가'.repeat(31), picks, limits)).toEqual({ code: 'name_too_long' });
    expect(checkRoutine(`  ${'🙌'.repeat(30)}  `, picks, limits)).toBeNull();
  });

  it('takes counts from 1 to 99 only, and names the entry that is wrong', () => {
    expect(parseCount('1', 99)).toBe(1);
    expect(parseCount(99, 99)).toBe(99);
    expect(parseCount('0', 99)).toBeNull();
    expect(parseCount('100', 99)).toBeNull();
    expect(parseCount('2.5', 99)).toBeNull();
    expect(parseCount('', 99)).toBeNull();
    const picks = [
      { action: 'squat', count: 10 },
      { action: 'lunge', count: 100 },
    ];
    expect(checkRoutine('하체', picks, limits)).toEqual({ code: 'count_out_of_range', index: 1 });
    expect(checkRoutine('하체', [{ action: 'squat', count: Number.NaN }], limits)).toEqual({ code: 'count_out_of_range', index: 0 });
  });
});
