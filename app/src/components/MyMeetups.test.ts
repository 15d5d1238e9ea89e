import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import '../lib/strings';
import MyMeetups from './MyMeetups.svelte';

function meetup(id: number, title: string) {
  return { id, title, starts_at: '2026-11-28T00:00:00Z', region: '서울특별시 영등포구', member_count: 3, like_count: 5, ended: false };
}

/** Answers `my_meetups` per role only when the test says so. */
function slowShell() {
  const waiting: Record<string, { answer: (value: unknown) => void; fail: (error: unknown) => void }> = {};
  mockIPC((cmd, args) => {
    if (cmd !== 'my_meetups') return [];
    const role = String((args as Record<string, unknown>).role);
    return new Promise((answer, fail) => (waiting[role] = { answer, fail }));
  });
  return waiting;
}

const titles = () => [...screen.getByTestId('my-meetups').querySelectorAll('li')].map((li) => li.textContent?.trim());

describe('my meetups on the me screen', () => {
  afterEach(() => {
    cleanup();
    clearMocks();
  });

  it('shows the chosen list even when the list of the tab left before arrives later', async () => {
    const waiting = slowShell();
    render(MyMeetups);
    await waitFor(() => expect(waiting.host).toBeDefined());
    await fireEvent.click(screen.getByTestId('my-meetups-member'));
    await waitFor(() => expect(waiting.member).toBeDefined());
    waiting.member.answer([meetup(2, '저녁 걷기')]);
    await waitFor(() => expect(titles()).toHaveLength(1));
    waiting.host.answer([meetup(1, '한강 아침 스트레칭')]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(titles()[0]).toContain('저녁 걷기');
  });

  it('does not call the list unavailable when only the tab left before failed', async () => {
    const waiting = slowShell();
    render(MyMeetups);
    await waitFor(() => expect(waiting.host).toBeDefined());
    await fireEvent.click(screen.getByTestId('my-meetups-liked'));
    await waitFor(() => expect(waiting.liked).toBeDefined());
    waiting.liked.answer([meetup(3, '주말 등산')]);
    await waitFor(() => expect(titles()).toHaveLength(1));
    waiting.host.fail({ code: 'network_failed', message: 'offline' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(titles()[0]).toContain('주말 등산');
  });

  it('shows loading, not the last tab list, while the new tab loads', async () => {
    const waiting = slowShell();
    render(MyMeetups);
    await waitFor(() => expect(waiting.host).toBeDefined());
    waiting.host.answer([meetup(1, '한강 아침 스트레칭')]);
    await waitFor(() => expect(titles()).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('my-meetups-member'));
    expect(titles()).toEqual([]);
    expect(screen.getByTestId('my-meetups').querySelector('[aria-busy="true"]')).not.toBeNull();
  });
});
