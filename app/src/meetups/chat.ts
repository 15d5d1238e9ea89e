// The chat room's timeline: messages the server stored (from the cache, from older pages and from
// live `message` events, which may repeat) kept once each by id in seq order, followed by the
// messages this device sent that the server has not echoed yet (pending, keyed by client id).
import type { ChatMessage, OutboxItem, Person } from './types';

export interface Pending {
  clientId: string;
  text: string;
  at: string;
  sender: Person | null;
  /** The server's refusal code once it refused the message. */
  refused: string | null;
}

export type Entry =
  | { kind: 'stored'; message: ChatMessage }
  | { kind: 'pending'; pending: Pending };

/** `known` with `incoming` added: one message per id, ordered by seq. */
export function mergeMessages(known: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map<number, ChatMessage>();
  for (const message of known) byId.set(message.id, message);
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq || a.id - b.id);
}

/** What the room shows: stored messages, then pending ones the server has not echoed. */
export function timeline(stored: ChatMessage[], pending: Pending[]): Entry[] {
  const echoed = new Set(stored.map((m) => m.client_id).filter((id): id is string => id !== null));
  return [
    ...stored.map((message): Entry => ({ kind: 'stored', message })),
    ...pending.filter((p) => !echoed.has(p.clientId)).map((p): Entry => ({ kind: 'pending', pending: p })),
  ];
}

/**
 * Pending entries the stored messages have not replaced yet (so the list does not grow forever),
 * each client id once (the outbox and the send button can both name the same message).
 */
export function stillPending(stored: ChatMessage[], pending: Pending[]): Pending[] {
  const seen = new Set<string | null>(stored.map((m) => m.client_id));
  return pending.filter((p) => {
    if (seen.has(p.clientId)) return false;
    seen.add(p.clientId);
    return true;
  });
}

/** The smallest seq known, for `older_messages`; null for an empty room. */
export function oldestSeq(stored: ChatMessage[]): number | null {
  return stored.length === 0 ? null : Math.min(...stored.map((m) => m.seq));
}

/** The room's messages still waiting in the outbox (written offline, before this screen opened). */
export function pendingFromOutbox(items: OutboxItem[], meetupId: number, me: Person | null): Pending[] {
  const out: Pending[] = [];
  for (const item of items) {
    if (item.write.type !== 'message' || item.write.meetup_id !== meetupId) continue;
    out.push({
      clientId: item.key,
      text: item.write.text,
      at: new Date(item.created_at_ms).toISOString(),
      sender: me,
      refused: item.refused ? item.refused[0] : null,
    });
  }
  return out;
}
