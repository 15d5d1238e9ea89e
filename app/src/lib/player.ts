// Which step of a routine the player shows (PRODUCT.md §3): the first action not yet done in the
// current cycle, and the label of the button that opens the player.
import type { RoutineView } from './types';

/** Index of the first entry not done in the cycle, or -1 when the cycle is complete. */
export function nextEntryIndex(routine: RoutineView, after = -1): number {
  const later = routine.entries.findIndex((e, i) => i > after && !e.done);
  if (later >= 0) return later;
  return routine.entries.findIndex((e) => !e.done);
}

/** "루틴 시작하기" before the first action, "이어서 하기" mid-cycle, "루틴 재시작하기" when complete. */
export function openLabelKey(routine: RoutineView): 'player.start_routine' | 'player.continue' | 'player.restart' {
  if (routine.complete) return 'player.restart';
  return routine.done_count > 0 ? 'player.continue' : 'player.start_routine';
}

/** A routine is mid-cycle when some but not all of its actions are done. */
export function midCycle(routine: RoutineView): boolean {
  return routine.done_count > 0 && !routine.complete;
}
