// When a meetup has ended, the one rule every screen uses (the list's badge, the detail's join,
// the chat's read-only room): the server's word, or its end time passed by the device's clock
// since the server answered (a copy from the offline cache keeps the `ended` it was fetched with).
import type { Meetup } from './types';

type Ending = Pick<Meetup, 'ended' | 'ends_at'>;

/** The longest delay `setTimeout` keeps (about 24.8 days); a longer one would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Whether the meetup has ended at `now` (ms): the server says so, or its end is not later. */
export function hasEnded(meetup: Ending, now: number): boolean {
  return meetup.ended || Date.parse(meetup.ends_at) <= now;
}

/**
 * How many ms from `now` until the meetup ends (always more than 0); null once it has ended, or
 * when its end cannot be read (then only the server's word ends it).
 */
export function msUntilEnd(meetup: Ending, now: number): number | null {
  if (hasEnded(meetup, now)) return null;
  const ends = Date.parse(meetup.ends_at);
  return Number.isNaN(ends) ? null : ends - now;
}

/**
 * Calls `onEnd` once, when the meetup ends by the device's clock (at once if it has ended
 * already), so that a screen left open turns to "ended" then; returns the cancel (for an
 * `$effect` to return). A far end is waited for in steps a timer can take.
 */
export function whenEnded(meetup: Ending, onEnd: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const look = () => {
    const now = Date.now();
    if (hasEnded(meetup, now)) return onEnd();
    const wait = msUntilEnd(meetup, now);
    // A timer that fired a little early looks again.
    if (wait !== null) timer = setTimeout(look, Math.min(wait, LONGEST_TIMER_MS));
  };
  look();
  return () => clearTimeout(timer);
}
