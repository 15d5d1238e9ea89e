// The rules the routine form checks before it asks the engine (PRODUCT.md §3), with the limits
// the `limits` command reports (core::limits). The engine checks again and has the last word;
// these only let the form say what is wrong while the user types.
import type { Limits, RoutinePick } from './types';

export type FormCode = 'too_many_actions' | 'no_actions' | 'name_empty' | 'name_too_long' | 'count_out_of_range';

export interface FormProblem {
  code: FormCode;
  /** The entry a count problem is about. */
  index?: number;
}

type RoutineLimits = Pick<Limits, 'routine_name_max' | 'routine_actions_max' | 'action_count_max'>;

/** Unicode characters, as the engine counts them (not UTF-16 units). */
export function charCount(text: string): number {
  return [...text].length;
}

/** Picks or unpicks `id`; refuses a pick past the limit. */
export function togglePick(
  selected: readonly string[],
  id: string,
  max: number,
): { selected: string[]; problem: FormProblem | null } {
  if (selected.includes(id)) return { selected: selected.filter((s) => s !== id), problem: null };
  if (selected.length >= max) return { selected: [...selected], problem: { code: 'too_many_actions' } };
  return { selected: [...selected, id], problem: null };
}

/** The first step: the chosen actions. */
export function checkActions(selected: readonly string[], limits: RoutineLimits): FormProblem | null {
  if (selected.length === 0) return { code: 'no_actions' };
  if (selected.length > limits.routine_actions_max) return { code: 'too_many_actions' };
  return null;
}

/** A count as typed: a whole number within 1..max, else null. */
export function parseCount(text: string | number, max: number): number | null {
  const value = typeof text === 'number' ? text : Number(String(text).trim());
  if (!Number.isInteger(value) || value < 1 || value > max) return null;
  return value;
}

/** The second step: name and counts. */
export function checkRoutine(name: string, picks: readonly RoutinePick[], limits: RoutineLimits): FormProblem | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return { code: 'name_empty' };
  if (charCount(trimmed) > limits.routine_name_max) return { code: 'name_too_long' };
  const actions = checkActions(
    picks.map((p) => p.action),
    limits,
  );
  if (actions) return actions;
  const bad = picks.findIndex((p) => parseCount(p.count, limits.action_count_max) === null);
  if (bad >= 0) return { code: 'count_out_of_range', index: bad };
  return null;
}

/** `core::limits` as released, used only until the `limits` command answers. */
export const DEFAULT_LIMITS: RoutineLimits = { routine_name_max: 30, routine_actions_max: 5, action_count_max: 99 };

/** The count a newly picked action starts with. */
export const DEFAULT_COUNT = 10;
