import type { OutboxItem } from './types';

/** A comment written on this device that the server has not confirmed yet. */
export interface PendingComment {
  key: string;
  text: string;
}

/**
 * The comments on meetup `meetupId` still waiting in the outbox (written offline, say), so that a
 * comment stays on screen as "sending" after the user leaves the meetup and comes back. Refused
 * ones are left out: the outbox banner tells about those.
 */
export function queuedComments(items: OutboxItem[], meetupId: number): PendingComment[] {
  const path = `/v1/meetups/${meetupId}/comments`;
  const out: PendingComment[] = [];
  for (const item of items) {
    const write = item.write;
    if (write.type !== 'http' || write.kind !== 'comment' || write.path !== path || item.refused) continue;
    const text = (write.body as { text?: unknown } | null)?.text;
    if (typeof text === 'string') out.push({ key: item.key, text });
  }
  return out;
}

/** `pending` with the `queued` ones it does not hold yet, in the outbox's order after its own. */
export function withQueued(pending: PendingComment[], queued: PendingComment[]): PendingComment[] {
  const known = new Set(pending.map((p) => p.key));
  return [...pending, ...queued.filter((q) => !known.has(q.key))];
}
