import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import Comments from './Comments.svelte';
import type { Comment } from './types';

const me = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };

function comment(id: number, authorId: string, text: string): Comment {
  return {
    id,
    meetup_id: 7,
    author: { id: authorId, nickname: authorId === me.id ? '밍기' : '무너' },
    text,
    created_at: '2030-05-01T07:00:00Z',
    updated_at: '2030-05-01T07:00:00Z',
  };
}

afterEach(async () => {
  cleanup();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

describe('the comments of a meetup', () => {
  it('shows a new comment at once and once more only as the server keeps it', async () => {
    let stored = [comment(1, 'u2', '좋아요')];
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC(
      (cmd, args) => {
        calls.push({ cmd, args });
        if (cmd === 'comments') return stored;
        if (cmd === 'comment') return 'c-key';
        return null;
      },
      { shouldMockEvents: true },
    );
    render(Comments, { meetupId: 7, me });
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(1));

    await fireEvent.input(screen.getByTestId('comment-input'), { target: { value: '가'.repeat(51) } });
    await fireEvent.click(screen.getByTestId('comment-submit'));
    expect(screen.getByTestId('toast').textContent).toContain('1~50');

    await fireEvent.input(screen.getByTestId('comment-input'), { target: { value: '저도 갈래요' } });
    await fireEvent.click(screen.getByTestId('comment-submit'));
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(2));
    expect(calls.find((c) => c.cmd === 'comment')?.args).toEqual({ id: 7, text: '저도 갈래요' });

    stored = [...stored, comment(2, me.id, '저도 갈래요')];
    await emit('social', { type: 'sent', key: 'c-key' });
    await waitFor(() => expect(screen.queryByText('보내는 중')).toBeNull());
    expect(screen.getAllByTestId('comment').map((c) => c.dataset.commentId)).toEqual(['1', '2']);
  });

  it('still shows a comment written offline as sending after leaving the meetup and coming back', async () => {
    const queued = (key: string, meetupId: number, text: string, refused: [string, string] | null = null) => ({
      key,
      write: { type: 'http', kind: 'comment', method: 'POST', path: `/v1/meetups/${meetupId}/comments`, body: { text } },
      attempts: 1,
      refused,
      created_at_ms: 0,
      sent_at_ms: null,
    });
    let outbox = [
      queued('q-1', 7, '비 오면 취소인가요?'),
      queued('q-2', 8, '다른 모임 댓글'),
      queued('q-3', 7, '거절된 댓글', ['meetup_ended', 'ended']),
    ];
    let stored = [comment(1, 'u2', '좋아요')];
    mockIPC(
      (cmd) => {
        if (cmd === 'comments') return stored;
        if (cmd === 'outbox') return outbox;
        return null;
      },
      { shouldMockEvents: true },
    );
    render(Comments, { meetupId: 7, me });
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(2));
    const waiting = screen.getAllByTestId('comment').find((c) => c.dataset.pending === 'true');
    expect(waiting?.textContent).toContain('비 오면 취소인가요?');
    expect(waiting?.textContent).toContain('보내는 중');

    stored = [...stored, comment(2, me.id, '비 오면 취소인가요?')];
    outbox = [];
    await emit('social', { type: 'sent', key: 'q-1' });
    await waitFor(() => expect(screen.queryByText('보내는 중')).toBeNull());
    expect(screen.getAllByTestId('comment').map((c) => c.dataset.commentId)).toEqual(['1', '2']);
  });

  it('does not leave a comment sent while the outbox was being read showing as sending', async () => {
    let answerOutbox: (items: unknown[]) => void = () => {};
    const outboxRead = new Promise<unknown[]>((resolve) => (answerOutbox = resolve));
    let stored = [comment(1, 'u2', '좋아요')];
    mockIPC(
      (cmd) => {
        if (cmd === 'comments') return stored;
        if (cmd === 'outbox') return outboxRead;
        return null;
      },
      { shouldMockEvents: true },
    );
    render(Comments, { meetupId: 7, me });
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(1));

    // The queued comment reaches the server, then the outbox read that began before answers.
    stored = [...stored, comment(2, me.id, '비 오면 취소인가요?')];
    await emit('social', { type: 'sent', key: 'q-1' });
    const write = { type: 'http', kind: 'comment', method: 'POST', path: '/v1/meetups/7/comments' };
    const body = { text: '비 오면 취소인가요?' };
    answerOutbox([
      { key: 'q-1', write: { ...write, body }, attempts: 1, refused: null, created_at_ms: 0, sent_at_ms: 0 },
    ]);
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(2));
    expect(screen.queryByText('보내는 중')).toBeNull();
    expect(screen.getAllByTestId('comment').map((c) => c.dataset.commentId)).toEqual(['1', '2']);
  });

  it('lets the author edit and delete only their own comments', async () => {
    let stored = [comment(1, 'u2', '좋아요'), comment(2, me.id, '저도요')];
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === 'comments') return stored;
      if (cmd === 'edit_comment') stored = [stored[0], { ...stored[1], text: '저도 가요!' }];
      if (cmd === 'delete_comment') stored = [stored[0]];
      return null;
    });
    render(Comments, { meetupId: 7, me });
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(2));
    expect(screen.getAllByTestId('comment-edit')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('comment-edit'));
    await fireEvent.input(screen.getByTestId('comment-edit-input'), { target: { value: '저도 가요!' } });
    await fireEvent.click(screen.getByTestId('comment-edit-save'));
    await waitFor(() => expect(screen.getAllByTestId('comment')[1].textContent).toContain('저도 가요!'));
    expect(calls.find((c) => c.cmd === 'edit_comment')?.args).toEqual({ commentId: 2, text: '저도 가요!' });

    // Deleting asks first.
    await fireEvent.click(screen.getByTestId('comment-delete'));
    await fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(calls.some((c) => c.cmd === 'delete_comment')).toBe(false);
    await fireEvent.click(screen.getByTestId('comment-delete'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(screen.getAllByTestId('comment')).toHaveLength(1));
    expect(calls.find((c) => c.cmd === 'delete_comment')?.args).toEqual({ commentId: 2 });
  });

  it('takes a comment deleted elsewhere off the list with its own message, one deletion at a time', async () => {
    let stored = [comment(2, 'u1', '내 댓글')];
    let answer: () => void = () => {};
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === 'comments') return stored;
      if (cmd === 'delete_comment') {
        // Deleted on another device while this one asked.
        return new Promise((_, reject) => (answer = () => reject({ code: 'not_found', message: 'no such comment' })));
      }
      return null;
    });
    render(Comments, { meetupId: 7, me });
    const button = (await screen.findByTestId('comment-delete')) as HTMLButtonElement;
    await fireEvent.click(button);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(button.disabled).toBe(true));
    await fireEvent.click(button);
    expect(screen.queryByTestId('confirm-ok')).toBeNull();
    expect(calls.filter((c) => c === 'delete_comment')).toHaveLength(1);
    stored = [];
    answer();
    await waitFor(() => expect(screen.queryAllByTestId('comment')).toHaveLength(0));
    await waitFor(() => expect(screen.getByTestId('toast').textContent).toBe('이미 삭제된 댓글이에요'));
  });
});
