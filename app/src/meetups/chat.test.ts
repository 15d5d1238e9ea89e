import { describe, expect, it } from 'vitest';
import { mergeMessages, oldestSeq, pendingFromOutbox, stillPending, timeline, type Pending } from './chat';
import type { ChatMessage, OutboxItem } from './types';

function message(seq: number, clientId: string | null = null, kind = 'text'): ChatMessage {
  return {
    meetup_id: 1,
    seq,
    id: 100 + seq,
    client_id: clientId,
    kind,
    sender: kind === 'text' ? { id: 'u1', nickname: '밍기' } : null,
    text: `message ${seq}`,
    at: '2030-05-01T07:00:00Z',
  };
}

function pending(clientId: string): Pending {
  return { clientId, text: 'hi', at: '2030-05-01T07:00:00Z', sender: null, refused: null };
}

describe('the chat timeline', () => {
  it('keeps each message once, in seq order, however often and in whatever order it arrives', () => {
    let known = mergeMessages([], [message(3), message(1)]);
    known = mergeMessages(known, [message(2), message(3)]);
    known = mergeMessages(known, [message(3)]);
    expect(known.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('puts older pages before what is shown', () => {
    const known = mergeMessages([message(51), message(52)], [message(1), message(2), message(50)]);
    expect(known.map((m) => m.seq)).toEqual([1, 2, 50, 51, 52]);
    expect(oldestSeq(known)).toBe(1);
    expect(oldestSeq([])).toBeNull();
  });

  it('shows a sent message as pending after the stored ones until the server echoes it', () => {
    const stored = [message(1), message(2)];
    const before = timeline(stored, [pending('c-1'), pending('c-2')]);
    expect(before.map((e) => (e.kind === 'stored' ? e.message.seq : e.pending.clientId))).toEqual([1, 2, 'c-1', 'c-2']);

    const echoed = mergeMessages(stored, [message(3, 'c-1')]);
    const after = timeline(echoed, [pending('c-1'), pending('c-2')]);
    expect(after.map((e) => (e.kind === 'stored' ? e.message.seq : e.pending.clientId))).toEqual([1, 2, 3, 'c-2']);
    expect(stillPending(echoed, [pending('c-1'), pending('c-2'), pending('c-2')]).map((p) => p.clientId)).toEqual(['c-2']);
  });

  it('keeps system join and leave messages in the order the server gave them', () => {
    const known = mergeMessages([], [message(2, null, 'leave'), message(1, null, 'join')]);
    expect(known.map((m) => m.kind)).toEqual(['join', 'leave']);
  });

  it('shows the room messages still waiting in the outbox, with a refusal if there is one', () => {
    const items: OutboxItem[] = [
      { key: 'k1', write: { type: 'message', meetup_id: 1, text: '늦어요' }, attempts: 2, refused: null, created_at_ms: 0, sent_at_ms: null },
      { key: 'k2', write: { type: 'message', meetup_id: 2, text: '다른 방' }, attempts: 0, refused: null, created_at_ms: 0, sent_at_ms: null },
      { key: 'k3', write: { type: 'http', kind: 'join', method: 'POST', path: '/v1/meetups/1/members', body: null }, attempts: 0, refused: null, created_at_ms: 0, sent_at_ms: null },
      { key: 'k4', write: { type: 'message', meetup_id: 1, text: '끝났네' }, attempts: 1, refused: ['meetup_ended', 'ended'], created_at_ms: 0, sent_at_ms: null },
    ];
    const found = pendingFromOutbox(items, 1, { id: 'u1', nickname: '밍기' });
    expect(found.map((p) => [p.clientId, p.text, p.refused])).toEqual([
      ['k1', '늦어요', null],
      ['k4', '끝났네', 'meetup_ended'],
    ]);
  });
});
