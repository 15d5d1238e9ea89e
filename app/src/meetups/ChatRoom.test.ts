import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import ChatRoom from './ChatRoom.svelte';
import type { ChatMessage, Meetup, Notice } from './types';

const me = { id: 'u1', email: 'mingi@example.com', nickname: '밍기' };
const other = { id: 'u2', nickname: '무너' };

const room: Meetup = {
  id: 7,
  host: me,
  title: '아침 스트레칭',
  contents: '',
  starts_at: '2030-05-01T07:00:00Z',
  ends_at: '2030-05-01T08:00:00Z',
  member_limit: null,
  image_id: null,
  location: { place_name: '공원', address: '서울특별시 강남구 1', lat: 37.5, lng: 127 },
  region: '서울특별시 강남구',
  member_count: 2,
  like_count: 0,
  liked_by_me: false,
  comment_count: 0,
  ended: false,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
};

function message(seq: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    meetup_id: 7,
    seq,
    id: 1000 + seq,
    client_id: null,
    kind: 'text',
    sender: other,
    text: `말 ${seq}`,
    at: '2030-05-01T07:10:00Z',
    ...overrides,
  };
}

type Calls = { cmd: string; args: Record<string, unknown> }[];

function shell(cached: ChatMessage[], answers: Record<string, unknown> = {}): Calls {
  const calls: Calls = [];
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === 'messages') return cached;
      if (cmd === 'notice') return (answers.notice as Notice | undefined) ?? null;
      if (cmd === 'outbox') return answers.outbox ?? [];
      if (cmd === 'older_messages') return answers.older ?? [];
      if (cmd === 'send_message') return 'client-1';
      if (cmd === 'open_room') return answers.online ?? true;
      return null;
    },
    { shouldMockEvents: true },
  );
  return calls;
}

const seqs = () => screen.getAllByTestId('chat-message').map((m) => m.dataset.seq ?? `pending:${m.dataset.clientId}`);

afterEach(async () => {
  cleanup();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

describe('the chat room', () => {
  it('says at once that the chat is offline when the room opens while disconnected', async () => {
    shell([message(1)], { online: false });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(screen.getByTestId('chat-offline').textContent).toContain('연결이 끊겼어요'));
    await emit('social', { type: 'online', online: true });
    await waitFor(() => expect(screen.queryByTestId('chat-offline')).toBeNull());
  });

  it('follows the room and shows the cached messages with join and leave apart', async () => {
    const calls = shell([message(1, { kind: 'join', text: '' }), message(2)]);
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['1', '2']));
    expect(screen.getAllByTestId('chat-message')[0].dataset.kind).toBe('join');
    expect(screen.getAllByTestId('chat-message')[0].textContent).toContain('무너님이 들어왔어요');
    expect(calls.find((c) => c.cmd === 'open_room')?.args).toEqual({ id: 7 });
  });

  it('shows a live message once even when it is delivered twice, in seq order', async () => {
    shell([message(1), message(3)]);
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['1', '3']));
    await emit('social', { type: 'message', message: message(2) });
    await emit('social', { type: 'message', message: message(2) });
    await emit('social', { type: 'message', message: { ...message(9), meetup_id: 8 } });
    await waitFor(() => expect(seqs()).toEqual(['1', '2', '3']));
  });

  it('shows a sent message at once as pending and swaps in the server copy', async () => {
    const calls = shell([message(1)]);
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['1']));
    await fireEvent.input(screen.getByTestId('chat-input'), { target: { value: '  안녕하세요  ' } });
    await fireEvent.click(screen.getByTestId('chat-send'));
    await waitFor(() => expect(seqs()).toEqual(['1', 'pending:client-1']));
    expect(calls.find((c) => c.cmd === 'send_message')?.args).toEqual({ id: 7, text: '안녕하세요' });
    expect((screen.getByTestId('chat-input') as HTMLInputElement).value).toBe('');

    const echo = message(2, { client_id: 'client-1', sender: { id: me.id, nickname: me.nickname }, text: '안녕하세요' });
    await emit('social', { type: 'message', message: echo });
    await emit('social', { type: 'message', message: echo });
    await waitFor(() => expect(seqs()).toEqual(['1', '2']));
    expect(screen.getAllByTestId('chat-message')[1].dataset.clientId).toBe('client-1');
  });

  it('shows the newest page the engine fetches on a first open, without fetching it again', async () => {
    const calls = shell([], { online: true });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(calls.some((c) => c.cmd === 'outbox')).toBe(true));
    for (const seq of [48, 49, 50]) await emit('social', { type: 'message', message: message(seq) });
    await waitFor(() => expect(seqs()).toEqual(['48', '49', '50']));
    expect(calls.filter((c) => c.cmd === 'older_messages')).toEqual([]);

    // Scrolling up still asks for the page before it, up to the start of the conversation.
    await fireEvent.click(screen.getByTestId('chat-older'));
    await waitFor(() => expect(screen.getByText('대화의 처음이에요')).toBeTruthy());
    expect(calls.filter((c) => c.cmd === 'older_messages').map((c) => c.args)).toEqual([{ id: 7, beforeSeq: 48 }]);
  });

  it('fetches the newest page itself when a room with nothing cached opens while the live chat is down', async () => {
    const calls = shell([], { online: false, older: [message(1), message(2)] });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['1', '2']));
    expect(calls.find((c) => c.cmd === 'older_messages')?.args).toEqual({ id: 7, beforeSeq: Number.MAX_SAFE_INTEGER });
  });

  it('loads older messages before the smallest seq', async () => {
    const calls = shell([message(51), message(52)], { older: [message(49), message(50)] });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['51', '52']));
    await fireEvent.click(screen.getByTestId('chat-older'));
    await waitFor(() => expect(seqs()).toEqual(['49', '50', '51', '52']));
    expect(calls.find((c) => c.cmd === 'older_messages')?.args).toEqual({ id: 7, beforeSeq: 51 });
  });

  it('shows the notice, lets the host make one from a message, and follows notice events', async () => {
    const calls = shell([message(1, { sender: { id: me.id, nickname: me.nickname }, text: '7시 정문' })], {
      notice: { text: '물 챙겨오세요', at: '2030-05-01T07:00:00Z' },
    });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(screen.getByTestId('notice-text').textContent).toBe('물 챙겨오세요'));
    expect(screen.getByTestId('notice-banner').textContent).toContain('모임장 공지');
    await fireEvent.click(screen.getByTestId('chat-make-notice'));
    await waitFor(() => expect(screen.getByTestId('notice-text').textContent).toBe('7시 정문'));
    expect(calls.find((c) => c.cmd === 'set_notice')?.args).toEqual({ id: 7, text: '7시 정문' });
    await emit('social', { type: 'notice', meetup_id: 7, notice: null });
    await waitFor(() => expect(screen.queryByTestId('notice-text')).toBeNull());
  });

  it('is read-only after the meetup ended', async () => {
    shell([message(1)]);
    render(ChatRoom, { meetup: { ...room, host: other, ended: true }, lang: 'ko', me, onBack: () => {} });
    expect(screen.getByTestId('chat-readonly').textContent).toContain('이미 종료된 모임입니다');
    expect((screen.getByTestId('chat-input') as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByTestId('chat-send') as HTMLButtonElement).disabled).toBe(true);
  });

  it('turns read-only when the meetup ends while the room is open', async () => {
    shell([message(1, { sender: { id: me.id, nickname: me.nickname } })]);
    const endsSoon = { ...room, ends_at: new Date(Date.now() + 1000).toISOString() };
    render(ChatRoom, { meetup: endsSoon, lang: 'ko', me, onBack: () => {} });
    expect((screen.getByTestId('chat-input') as HTMLInputElement).disabled).toBe(false);
    expect(screen.queryByTestId('chat-readonly')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('chat-make-notice')).toBeTruthy());
    await waitFor(() => expect(screen.getByTestId('chat-readonly')).toBeTruthy(), { timeout: 3000 });
    expect((screen.getByTestId('chat-input') as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByTestId('chat-send') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId('chat-make-notice')).toBeNull();
  });

  it('shows messages still queued in the outbox as pending', async () => {
    shell([message(1)], {
      outbox: [{ key: 'queued-1', write: { type: 'message', meetup_id: 7, text: '늦어요' }, attempts: 3, refused: null, created_at_ms: 0, sent_at_ms: null }],
    });
    render(ChatRoom, { meetup: room, lang: 'ko', me, onBack: () => {} });
    await waitFor(() => expect(seqs()).toEqual(['1', 'pending:queued-1']));
  });
});
