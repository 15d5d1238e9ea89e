import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, describe, expect, it } from 'vitest';
import MeetupsTab from './MeetupsTab.svelte';
import type { Listing, Meetup } from './types';

const me = { id: 'u1', email: 'mingi@example.com', nickname: '밍기', provider: 'local' };

function meetup(id: number, overrides: Partial<Meetup> = {}): Meetup {
  return {
    id,
    host: { id: 'u2', nickname: '무너' },
    title: `모임 ${id}`,
    contents: '',
    starts_at: '2030-05-01T07:00:00Z',
    ends_at: '2030-05-01T08:00:00Z',
    member_limit: null,
    image_id: null,
    location: { place_name: `공원 ${id}`, address: '서울특별시 강남구 1', lat: 37.5, lng: 127 },
    region: '서울특별시 강남구',
    member_count: 1,
    like_count: 0,
    liked_by_me: false,
    comment_count: 0,
    ended: false,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
    ...overrides,
  };
}

type Calls = { cmd: string; args: Record<string, unknown> }[];

function shell(pages: Record<string, Listing>, extra: Record<string, unknown> = {}): Calls {
  const calls: Calls = [];
  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      if (cmd === 'meetups') return pages[`${a.sort}|${a.region ?? ''}|${a.cursor ?? ''}`] ?? { items: [], next_cursor: null, offline: false };
      if (cmd === 'outbox') return extra.outbox ?? [];
      if (cmd === 'account') return { user: null, server_url: 'http://127.0.0.1:8787' };
      if (cmd in extra) return extra[cmd];
      return null;
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** A place the search finds, with its 시·군·구. */
const YEOUIDO = { name: '여의도 한강공원', address: '서울특별시 영등포구 여의동로 330', lat: 37.52, lng: 126.93, region: '서울특별시 영등포구' };

/** Opens the form and fills a title and a period of an hour. */
async function writeDraft(title: string) {
  render(MeetupsTab, { lang: 'ko', signedIn: true, me });
  await fireEvent.click(screen.getByTestId('meetup-write'));
  await fireEvent.input(screen.getByTestId('meetup-title'), { target: { value: title } });
  await fireEvent.input(screen.getByTestId('meetup-starts'), { target: { value: '2030-05-01T07:00' } });
  await fireEvent.input(screen.getByTestId('meetup-ends'), { target: { value: '2030-05-01T08:00' } });
}

afterEach(async () => {
  cleanup();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

describe('the meetups tab', () => {
  it('asks a signed-out user to sign in on the Me tab', () => {
    shell({});
    render(MeetupsTab, { lang: 'ko', signedIn: false, me: null });
    expect(screen.getByTestId('meetups-signin').textContent).toContain('마이페이지');
    expect(screen.queryByTestId('meetup-write')).toBeNull();
  });

  it('lists meetups newest first and loads the next page with the cursor', async () => {
    const calls = shell({
      'new||': { items: [meetup(3, { ended: true }), meetup(2)], next_cursor: 'c2', offline: false },
      'new||c2': { items: [meetup(2), meetup(1)], next_cursor: null, offline: false },
    });
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await waitFor(() => expect(screen.getAllByTestId('meetup-card')).toHaveLength(2));
    expect(screen.getAllByTestId('meetup-card')[0].textContent).toContain('종료');

    await fireEvent.click(screen.getByTestId('meetup-more'));
    await waitFor(() => expect(screen.getAllByTestId('meetup-card')).toHaveLength(3));
    expect(screen.getAllByTestId('meetup-card').map((c) => c.dataset.meetupId)).toEqual(['3', '2', '1']);
    expect(calls.filter((c) => c.cmd === 'meetups').map((c) => c.args.cursor)).toEqual([null, 'c2']);
    expect(screen.queryByTestId('meetup-more')).toBeNull();
  });

  it('sorts by likes and filters by region', async () => {
    const calls = shell({
      'likes||': { items: [meetup(9, { like_count: 5 })], next_cursor: null, offline: false },
      'likes|서울 강남구|': { items: [meetup(8)], next_cursor: null, offline: false },
    });
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await fireEvent.click(screen.getByTestId('meetup-sort-likes'));
    await waitFor(() => expect(screen.getAllByTestId('meetup-card')[0].dataset.meetupId).toBe('9'));
    expect(screen.getByTestId('meetup-sort-likes').getAttribute('aria-pressed')).toBe('true');

    await fireEvent.change(screen.getByTestId('meetup-region'), { target: { value: ' 서울  강남구 ' } });
    await waitFor(() => expect(screen.getAllByTestId('meetup-card')[0].dataset.meetupId).toBe('8'));
    expect(calls.filter((c) => c.cmd === 'meetups').at(-1)?.args).toEqual({ sort: 'likes', region: '서울 강남구', cursor: null });
  });

  it('says so when the list comes from the device offline', async () => {
    shell({ 'new||': { items: [meetup(1)], next_cursor: null, offline: true } });
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await waitFor(() => expect(screen.getByTestId('meetups-offline').textContent).toContain('오프라인'));
  });

  it('shows a refused write with its reason until it is dismissed', async () => {
    const calls = shell({}, {
      outbox: [
        { key: 'k1', write: { type: 'http', kind: 'join', method: 'POST', path: '/v1/meetups/1/members', body: null }, attempts: 1, refused: ['meetup_ended', 'the meetup has ended'], created_at_ms: 0, sent_at_ms: null },
      ],
    });
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    const refused = await screen.findByTestId('outbox-refused');
    expect(refused.textContent).toContain('모임 참여');
    expect(refused.textContent).toContain('이미 종료된 모임입니다');
    await fireEvent.click(screen.getByTestId('outbox-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('outbox-refused')).toBeNull());
    expect(calls.find((c) => c.cmd === 'dismiss')?.args).toEqual({ key: 'k1' });
  });

  it('shows a write refused while the tab is open', async () => {
    shell({});
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await screen.findByTestId('meetups-empty');
    await emit('social', { type: 'refused', key: 'k9', code: 'meetup_full', message: 'full' });
    const refused = await screen.findByTestId('outbox-refused');
    expect(refused.dataset.code).toBe('meetup_full');
    expect(refused.textContent).toContain('정원');
  });

  it('opens a meetup and joins it, and refuses to join an ended one with the reason', async () => {
    const calls = shell(
      { 'new||': { items: [meetup(4)], next_cursor: null, offline: false } },
      { meetup: meetup(4, { ended: true, members: [{ id: 'u2', nickname: '무너' }] }), comments: [] },
    );
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await fireEvent.click(await screen.findByTestId('meetup-card'));
    await screen.findByTestId('meetup-detail');
    expect(screen.getByTestId('meetup-ended').textContent).toContain('이미 종료된 모임입니다');
    await fireEvent.click(screen.getByTestId('meetup-join'));
    expect(screen.getByTestId('join-reason').textContent).toContain('이미 종료된 모임입니다');
    expect(calls.some((c) => c.cmd === 'join')).toBe(false);
  });

  it('shows a meetup cached before its end as ended once the end has passed, and joins nothing', async () => {
    const past = { ends_at: '2020-05-01T08:00:00Z', starts_at: '2020-05-01T07:00:00Z', ended: false };
    const calls = shell(
      { 'new||': { items: [meetup(5, past)], next_cursor: null, offline: true } },
      { meetup: meetup(5, { ...past, members: [{ id: 'u2', nickname: '무너' }] }), comments: [] },
    );
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    const card = await screen.findByTestId('meetup-card');
    expect(card.textContent).toContain('종료');
    await fireEvent.click(card);
    await screen.findByTestId('meetup-detail');
    expect(screen.getByTestId('meetup-ended').textContent).toContain('이미 종료된 모임입니다');
    await fireEvent.click(screen.getByTestId('meetup-join'));
    expect(calls.some((c) => c.cmd === 'join')).toBe(false);
  });

  it('shows a meetup as ended when it ends while it is open, and joins nothing then', async () => {
    const endsSoon = { ends_at: new Date(Date.now() + 500).toISOString(), ended: false };
    const calls = shell(
      { 'new||': { items: [meetup(6, endsSoon)], next_cursor: null, offline: false } },
      { meetup: meetup(6, { ...endsSoon, members: [{ id: 'u2', nickname: '무너' }] }), comments: [] },
    );
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await fireEvent.click(await screen.findByTestId('meetup-card'));
    await screen.findByTestId('meetup-detail');
    expect(screen.queryByTestId('meetup-ended')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('meetup-ended')).toBeTruthy(), { timeout: 2000 });
    await fireEvent.click(screen.getByTestId('meetup-join'));
    expect(screen.getByTestId('join-reason').textContent).toContain('이미 종료된 모임입니다');
    expect(calls.some((c) => c.cmd === 'join')).toBe(false);
  });

  it('checks the form before anything is queued', async () => {
    const calls = shell({});
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await fireEvent.click(screen.getByTestId('meetup-write'));
    await fireEvent.input(screen.getByTestId('meetup-title'), { target: { value: '아침 스트레칭' } });
    await fireEvent.input(screen.getByTestId('meetup-starts'), { target: { value: '2030-05-01T08:00' } });
    await fireEvent.input(screen.getByTestId('meetup-ends'), { target: { value: '2030-05-01T07:00' } });
    await fireEvent.click(screen.getByTestId('meetup-save'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('invalid_period');
    expect(calls.some((c) => c.cmd === 'create_meetup')).toBe(false);
  });

  it('writes a meetup with a place picked from the search', async () => {
    const calls = shell({}, {
      search_places: [YEOUIDO],
      create_meetup: 'key-1',
      tile_url: 'http://127.0.0.1:1/{z}/{x}/{y}.png',
    });
    await writeDraft('한강 산책');
    await fireEvent.input(screen.getByTestId('meetup-limit'), { target: { value: '6' } });
    await fireEvent.click(screen.getByTestId('meetup-save'));
    expect(screen.getByTestId('form-error').dataset.code).toBe('missing_place');

    await fireEvent.input(screen.getByTestId('place-search'), { target: { value: '여의도' } });
    await fireEvent.click(screen.getByTestId('place-search-submit'));
    await fireEvent.click(await screen.findByTestId('place-result'));
    expect(screen.getByTestId('place-address').textContent).toContain('여의동로 330');
    await fireEvent.click(screen.getByTestId('meetup-save'));
    await screen.findByTestId('meetups-notice');

    expect(calls.find((c) => c.cmd === 'search_places')?.args).toEqual({ q: '여의도' });
    const body = calls.find((c) => c.cmd === 'create_meetup')?.args.meetup as Record<string, unknown>;
    expect(body).toMatchObject({
      title: '한강 산책',
      contents: '',
      member_limit: 6,
      image_id: null,
      location: { place_name: '여의도 한강공원', address: '서울특별시 영등포구 여의동로 330', lat: 37.52, lng: 126.93 },
    });
    expect(Date.parse(body.starts_at as string)).toBe(new Date(2030, 4, 1, 7, 0).getTime());
  });

  it('does not save while the photo is still uploading, so the meetup never goes without it', async () => {
    let answer: (value: unknown) => void = () => {};
    const calls = shell({}, {
      search_places: [YEOUIDO],
      upload_image: new Promise((resolve) => (answer = resolve)),
      create_meetup: 'key-2',
      tile_url: 'http://127.0.0.1:1/{z}/{x}/{y}.png',
    });
    await writeDraft('사진 모임');
    await fireEvent.input(screen.getByTestId('place-search'), { target: { value: '여의도' } });
    await fireEvent.click(screen.getByTestId('place-search-submit'));
    await fireEvent.click(await screen.findByTestId('place-result'));
    const input = screen.getByTestId('meetup-image') as HTMLInputElement;
    const file = new File([new Uint8Array([1, 2, 3])], 'photo.png', { type: 'image/png' });
    Object.assign(file, { arrayBuffer: async () => new Uint8Array([1, 2, 3]).buffer });
    Object.defineProperty(input, 'files', { value: [file] });
    await fireEvent.change(input);
    const save = screen.getByTestId('meetup-save') as HTMLButtonElement;
    await waitFor(() => expect(save.disabled).toBe(true));
    // Enter in a field submits the form all the same.
    await fireEvent.submit(screen.getByTestId('meetup-form'));
    expect(calls.some((c) => c.cmd === 'create_meetup')).toBe(false);

    answer({ id: 'img-7', url: '/v1/media/img-7' });
    await waitFor(() => expect(save.disabled).toBe(false));
    await fireEvent.click(save);
    await screen.findByTestId('meetups-notice');
    const body = calls.find((c) => c.cmd === 'create_meetup')?.args.meetup as Record<string, unknown>;
    expect(body.image_id).toBe('img-7');
    // The photo's bytes are the upload's raw body (its type is in a header, see ImagePicker.test).
    expect(calls.find((c) => c.cmd === 'upload_image')?.args).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses a place without its 시·군·구 next to the place field, keeping the draft', async () => {
    const calls = shell({}, {
      search_places: [
        { name: '경기도', address: '경기도', lat: 37.4, lng: 127.5, region: '경기도' },
        { name: '수원화성', address: '경기 수원시 팔달구 정조로 825', lat: 37.28, lng: 127.01, region: '경기도 수원시' },
      ],
      tile_url: 'http://127.0.0.1:1/{z}/{x}/{y}.png',
    });
    await writeDraft('경기 걷기');
    await fireEvent.input(screen.getByTestId('place-search'), { target: { value: '경기' } });
    await fireEvent.click(screen.getByTestId('place-search-submit'));
    await fireEvent.click((await screen.findAllByTestId('place-result'))[0]);
    await fireEvent.click(screen.getByTestId('meetup-save'));

    const error = screen.getByTestId('form-error');
    expect(error.dataset.code).toBe('invalid_address');
    expect(error.textContent).toContain('시·군·구');
    expect(screen.getByTestId('place-search').getAttribute('aria-describedby')).toBe(error.id);
    expect(calls.some((c) => c.cmd === 'create_meetup')).toBe(false);
    expect((screen.getByTestId('meetup-title') as HTMLInputElement).value).toBe('경기 걷기');
    // Picking another place takes the refusal away.
    await fireEvent.input(screen.getByTestId('place-search'), { target: { value: '수원' } });
    await fireEvent.click(screen.getByTestId('place-search-submit'));
    await fireEvent.click((await screen.findAllByTestId('place-result'))[1]);
    await waitFor(() => expect(screen.queryByTestId('form-error')).toBeNull());
  });

  it('joins and likes at once while the writes wait in the outbox', async () => {
    const calls = shell(
      { 'new||': { items: [meetup(4)], next_cursor: null, offline: false } },
      { meetup: meetup(4, { member_limit: 5, members: [{ id: 'u2', nickname: '무너' }] }), comments: [], join: 'j-1', like: 'l-1' },
    );
    render(MeetupsTab, { lang: 'ko', signedIn: true, me });
    await fireEvent.click(await screen.findByTestId('meetup-card'));
    await fireEvent.click(await screen.findByTestId('meetup-join'));
    await screen.findByTestId('meetup-leave');
    expect(screen.getByTestId('meetup-member-count').textContent).toContain('2/5');
    expect(screen.getByTestId('meetup-chat')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('meetup-like'));
    await waitFor(() => expect(screen.getByTestId('meetup-like-count').textContent).toBe('1'));
    expect(calls.find((c) => c.cmd === 'join')?.args).toEqual({ id: 4 });
    expect(calls.find((c) => c.cmd === 'like')?.args).toEqual({ id: 4, liked: true });
  });
});
