import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import { setLang } from './lib/i18n.svelte';
import { toasts } from './lib/toasts.svelte';
import { answer, fakeState, type FakeState } from './test/fakeEngine';

function start(state: FakeState) {
  mockIPC((cmd, args) => answer(state, cmd, args as Record<string, unknown>), { shouldMockEvents: true });
  return render(App);
}

describe('the app shell', () => {
  afterEach(() => {
    cleanup();
    toasts.splice(0);
    clearMocks();
    setLang('ko');
  });

  it('shows the four onboarding slides once, then home', async () => {
    const state = fakeState();
    start(state);
    await screen.findByTestId('onboarding');
    expect(screen.getByText('작은 운동 습관부터')).toBeTruthy();
    for (let i = 0; i < 3; i++) await fireEvent.click(screen.getByTestId('onboarding-next'));
    expect(screen.getByText('지역 기반 모임 참여')).toBeTruthy();
    const begin = screen.getByTestId('onboarding-start');
    expect(begin.textContent?.trim()).toBe('밍기적 시작하기');
    await fireEvent.click(begin);
    expect(state.settings.onboarded).toBe(true);
    const greeting = await screen.findByTestId('greeting');
    expect(greeting.textContent).toBe('새싹님, 오늘도 작은 밍기적을 만들어봐요!🙌');
    expect(screen.getByTestId('sync-indicator').dataset.phase).toBe('offline');
  });

  it('follows the sync status the shell reports', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기' };
    start(state);
    const indicator = await screen.findByTestId('sync-indicator');
    await vi.waitFor(() => expect(screen.getByTestId('greeting').textContent).toContain('밍기님'));
    // The app starts listening once its first loads are in; emit until it hears.
    await vi.waitFor(async () => {
      await emit('sync-status', { phase: 'syncing', changes_waiting: true, last_error: null, confirmed_writes: 0, writes_waiting: 2 });
      expect(indicator.dataset.phase).toBe('syncing');
    });
    expect(indicator.textContent).toContain('보낼 변경 2개');
    await emit('sync-status', { phase: 'up_to_date', changes_waiting: false, last_error: null, confirmed_writes: 2, writes_waiting: 0 });
    await vi.waitFor(() => expect(indicator.dataset.phase).toBe('up_to_date'));
    expect(indicator.textContent).toContain('최신 상태');
    expect(indicator.textContent).not.toContain('보낼 변경');
  });

  it('signs out keeping or wiping the device data as asked', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기' };
    start(state);
    await fireEvent.click(await screen.findByTestId('nav-me'));
    await vi.waitFor(() => expect(screen.getByTestId('me-email').textContent).toBe('mingi@example.com'));
    await fireEvent.click(screen.getByTestId('sign-out'));
    await fireEvent.click(screen.getByTestId('confirm-alt'));
    await vi.waitFor(() => expect(screen.getByTestId('auth-submit')).toBeTruthy());
    expect(state.calls.find(([cmd]) => cmd === 'sign_out')?.[1]).toEqual({ keepLocal: false, discardUnsynced: false });
    expect(screen.queryByTestId('me-email')).toBeNull();
  });

  it('edits the nickname and deletes the account keeping the device data', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.user = { id: 'u1', email: 'mingi@example.com', nickname: '밍기' };
    start(state);
    mockIPC(
      (cmd, args) => {
        if (cmd === 'edit_profile') {
          state.calls.push([cmd, args as Record<string, unknown>]);
          return { ...state.user, nickname: '무너무너' };
        }
        return answer(state, cmd, args as Record<string, unknown>);
      },
      { shouldMockEvents: true },
    );
    await fireEvent.click(await screen.findByTestId('nav-me'));
    await fireEvent.click(await screen.findByTestId('profile-edit'));
    await fireEvent.input(screen.getByTestId('profile-nickname'), { target: { value: '무너무너' } });
    await fireEvent.click(screen.getByTestId('profile-save'));
    await vi.waitFor(() => expect(screen.getByTestId('me-nickname').textContent).toBe('무너무너'));
    expect(state.calls.find(([cmd]) => cmd === 'edit_profile')?.[1]).toEqual({ nickname: '무너무너' });

    await fireEvent.click(screen.getByTestId('delete-account'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await vi.waitFor(() => expect(screen.queryByTestId('me-email')).toBeNull());
    expect(state.calls.find(([cmd]) => cmd === 'delete_account')?.[1]).toEqual({ keepLocal: true, discardUnsynced: false });
  });

  it('asks before switching a main routine that is mid-cycle, then resets it', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.character = 'mingi';
    state.routines.push({
      ...state.routines[0],
      id: 'mine-1',
      name: '점심 스트레칭',
      name_en: null,
      preset: false,
      is_main: true,
      done_count: 1,
      complete: false,
    });
    start(state);
    await fireEvent.click(await screen.findByTestId('nav-routines'));
    await fireEvent.click(screen.getByTestId('tab-presets'));
    await fireEvent.click(await screen.findByTestId('routine-set-main'));
    await fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(state.calls.some(([cmd]) => cmd === 'switch_main')).toBe(false);
    await fireEvent.click(screen.getByTestId('routine-set-main'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await vi.waitFor(() => expect(screen.getByTestId('routine-card').dataset.main).toBe('true'));
    const writes = state.calls.filter(([cmd]) => ['reset_cycle', 'set_main', 'switch_main'].includes(cmd));
    expect(writes).toEqual([['switch_main', { id: 'preset-1', reset: 'mine-1' }]]);
  });

  it('says why a command failed, in the user language', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.settings.language = 'en';
    state.fail.draw_character = 'collection_complete';
    start(state);
    await fireEvent.click(await screen.findByTestId('draw-prompt'));
    await fireEvent.click(screen.getByTestId('draw-confirm'));
    const toast = await screen.findByTestId('toast');
    expect(toast.dataset.code).toBe('collection_complete');
    expect(toast.textContent).toContain('You already collected every friend');
    expect(screen.getByTestId('draw-dialog')).toBeTruthy();
  });

  it('draws a character, shows the tracker and browses months', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    start(state);
    await fireEvent.click(await screen.findByTestId('draw-prompt'));
    expect(screen.getByText('생성한 캐릭터는 획득한 포인트에 따라 3단계로 진화합니다!')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('draw-confirm'));
    const card = await screen.findByTestId('character-card');
    expect(screen.queryByTestId('draw-dialog')).toBeNull();
    expect(screen.getByText('무너(이)가 찾아왔어요!')).toBeTruthy();
    expect(card.dataset.character).toBe('muneo');
    expect(card.dataset.level).toBe('1');
    expect(screen.getByTestId('set-main-prompt').textContent?.trim()).toBe('메인루틴 설정하기');
    const marked = screen.getAllByTestId('tracker-day').filter((d) => d.dataset.marked === 'true');
    expect(marked.map((d) => d.dataset.date)).toEqual(['2026-11-25']);
    await fireEvent.click(screen.getByTestId('tracker-prev'));
    await screen.findByText('2026년 10월');
    expect(screen.getAllByTestId('tracker-day')[0].dataset.date).toBe('2026-10-01');
  });

  it('moves between the tabs and sets a main routine', async () => {
    const state = fakeState();
    state.settings.onboarded = true;
    state.character = 'mingi';
    start(state);
    await fireEvent.click(await screen.findByTestId('nav-routines'));
    await fireEvent.click(screen.getByTestId('tab-presets'));
    const card = await screen.findByTestId('routine-card');
    expect(card.dataset.main).toBe('false');
    await fireEvent.click(screen.getByTestId('routine-set-main'));
    await screen.findByText('메인 루틴으로 설정했어요');
    await vi.waitFor(() => expect(screen.getByTestId('routine-card').dataset.main).toBe('true'));

    await fireEvent.click(screen.getByTestId('nav-home'));
    expect((await screen.findByTestId('player-open')).textContent?.trim()).toBe('루틴 시작하기');

    await fireEvent.click(screen.getByTestId('nav-history'));
    await vi.waitFor(() => expect(screen.getByTestId('week-title').textContent).toBe('밍기적 2주차'));
    expect(screen.getByText('밍기적 시작한지 10일 째 되는 날')).toBeTruthy();
    const today = screen.getAllByTestId('chart-bar').find((b) => b.dataset.today === 'true');
    expect(today?.dataset.date).toBe('2026-11-26');
    expect(screen.getByText('오늘')).toBeTruthy();
    await vi.waitFor(() => expect(screen.getByTestId('streak-best').textContent).toBe('4일'));

    await fireEvent.click(screen.getByTestId('nav-me'));
    expect(await screen.findByTestId('collection')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('language-en'));
    expect(state.settings.language).toBe('en');
    expect(screen.getByTestId('nav-home').textContent).toContain('Home');

    await fireEvent.click(screen.getByTestId('nav-meetups'));
    // The meetups tab is loaded on first use (with Leaflet): its first import takes over the
    // default second on a busy machine.
    expect(await screen.findByTestId('meetups', {}, { timeout: 10_000 })).toBeTruthy();
  });
});
