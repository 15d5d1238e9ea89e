import { describe, expect, it } from 'vitest';
import { appendPage, regionFilter } from './listing';
import type { Meetup } from './types';

function meetup(id: number, likes = 0): Meetup {
  return {
    id,
    host: { id: 'u1', nickname: '밍기' },
    title: `모임 ${id}`,
    contents: '',
    starts_at: '2030-05-01T07:00:00Z',
    ends_at: '2030-05-01T08:00:00Z',
    member_limit: null,
    image_id: null,
    location: { place_name: '공원', address: '서울특별시 강남구 1', lat: 37.5, lng: 127 },
    region: '서울특별시 강남구',
    member_count: 1,
    like_count: likes,
    liked_by_me: false,
    comment_count: 0,
    ended: false,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
  };
}

describe('the meetup list pages', () => {
  it('appends the next page after what is shown', () => {
    const shown = appendPage([], [meetup(5), meetup(4)]);
    expect(appendPage(shown, [meetup(3), meetup(2)]).map((m) => m.id)).toEqual([5, 4, 3, 2]);
  });

  it('never shows a meetup twice and keeps its freshest copy where it was', () => {
    const shown = [meetup(5, 3), meetup(4, 2)];
    const next = appendPage(shown, [meetup(4, 9), meetup(3, 1)]);
    expect(next.map((m) => m.id)).toEqual([5, 4, 3]);
    expect(next[1].like_count).toBe(9);
  });

  it('sends a trimmed region filter, or none', () => {
    expect(regionFilter('  서울   강남구 ')).toBe('서울 강남구');
    expect(regionFilter('   ')).toBeNull();
  });
});
