import { describe, expect, it } from 'vitest';
import { changes, checkImage, draftOf, locationOf, textWithin, toBody, toLocalInput, toRfc3339, validate, type Draft } from './form';
import type { Meetup } from './types';

const location = { place_name: '여의도 한강공원', address: '서울특별시 영등포구 여의동로 330', lat: 37.528, lng: 126.933 };
const place = { ...location, region: '서울특별시 영등포구' };

function draft(overrides: Partial<Draft> = {}): Draft {
  return {
    title: '아침 스트레칭',
    contents: '같이 몸 풀어요',
    starts: '2030-05-01T07:00',
    ends: '2030-05-01T08:30',
    limit: '',
    place,
    imageId: null,
    ...overrides,
  };
}

describe('the meetup form rules', () => {
  it('accepts a complete meetup', () => {
    expect(validate(draft())).toBeNull();
  });

  it('wants a title of 1 to 30 characters, counting a Korean syllable or an emoji as one', () => {
    expect(validate(draft({ title: '   ' }))?.code).toBe('invalid_title');
    expect(validate(draft({ title: '가'.repeat(30) }))).toBeNull();
    expect(validate(draft({ title: '🏃'.repeat(30) }))).toBeNull();
    expect(validate(draft({ title: '가'.repeat(31) }))?.code).toBe('invalid_title');
  });

  it('keeps the contents to 500 characters', () => {
    expect(validate(draft({ contents: 'a'.repeat(500) }))).toBeNull();
    expect(validate(draft({ contents: 'a'.repeat(501) }))?.code).toBe('invalid_contents');
  });

  it('needs a period that does not end before it starts', () => {
    expect(validate(draft({ starts: '' }))?.code).toBe('missing_period');
    expect(validate(draft({ ends: '2030-05-01T06:59' }))).toEqual({ code: 'invalid_period', field: 'ends' });
    expect(validate(draft({ ends: '2030-05-01T07:00' }))).toBeNull();
  });

  it('takes an optional member limit of 2 to 1000', () => {
    expect(validate(draft({ limit: '2' }))).toBeNull();
    expect(validate(draft({ limit: '1' }))?.code).toBe('invalid_member_limit');
    expect(validate(draft({ limit: '2.5' }))?.code).toBe('invalid_member_limit');
    expect(validate(draft({ limit: '1001' }))?.code).toBe('invalid_member_limit');
  });

  it('needs a place picked from the search', () => {
    expect(validate(draft({ place: null }))?.code).toBe('missing_place');
  });

  it('refuses a place the server would refuse: an address without its 시·군·구, or not in Korea', () => {
    const picked = (name: string, address: string, region: string | null) =>
      locationOf({ name, address, lat: 36.5, lng: 127.2, region });
    const foreign = picked('Central Park', 'New York, NY, USA', null);
    expect(validate(draft({ place: foreign }))).toEqual({ code: 'invalid_address', field: 'place' });
    const province = picked('경기도청', '경기도', '경기도');
    expect(validate(draft({ place: province }))).toEqual({ code: 'invalid_address', field: 'place' });
    expect(validate(draft({ place: picked('세종호수공원', '세종특별자치시 연기면 세종리 300', '세종특별자치시') }))).toBeNull();
    expect(validate(draft({ place: picked('성남시청', '경기 성남시 중원구 성남대로 997', '경기도 성남시') }))).toBeNull();
  });

  it('refuses a place name or an address longer than the server keeps', () => {
    expect(validate(draft({ place: { ...place, place_name: '가'.repeat(100) } }))).toBeNull();
    expect(validate(draft({ place: { ...place, place_name: '가'.repeat(101) } }))?.code).toBe('invalid_place_name');
    expect(validate(draft({ place: { ...place, place_name: '  ' } }))?.code).toBe('invalid_place_name');
    const long = `${place.address} ${'가'.repeat(200)}`;
    expect(validate(draft({ place: { ...place, address: long } }))?.code).toBe('invalid_address');
  });

  it('writes the body the server takes, without the search result region', () => {
    const body = toBody(draft({ title: '  아침 스트레칭 ', limit: '8' }));
    expect(body.title).toBe('아침 스트레칭');
    expect(body.member_limit).toBe(8);
    expect(body.location).toEqual(location);
    expect(Date.parse(body.starts_at)).toBe(new Date(2030, 4, 1, 7, 0).getTime());
  });
});

describe('date-times in the device time zone', () => {
  it('turns a datetime-local value into RFC 3339 with the local offset', () => {
    const text = toRfc3339('2030-05-01T07:00');
    expect(text).toMatch(/^2030-05-01T07:00:00[+-]\d{2}:\d{2}$/);
    expect(Date.parse(text as string)).toBe(new Date(2030, 4, 1, 7, 0).getTime());
  });

  it('refuses what is not a date-time', () => {
    expect(toRfc3339('')).toBeNull();
    expect(toRfc3339('2030-02-30T07:00')).toBeNull();
    expect(toRfc3339('tomorrow')).toBeNull();
  });

  it('gives a stored instant back as the same wall-clock time', () => {
    const rfc = toRfc3339('2030-12-31T23:45') as string;
    expect(toLocalInput(rfc)).toBe('2030-12-31T23:45');
    expect(toLocalInput(new Date(2030, 0, 2, 9, 5).toISOString())).toBe('2030-01-02T09:05');
  });
});

describe('editing a meetup', () => {
  const meetup: Meetup = {
    id: 7,
    host: { id: 'u1', nickname: '밍기' },
    title: '아침 스트레칭',
    contents: '같이 몸 풀어요',
    starts_at: new Date(2030, 4, 1, 7, 0).toISOString(),
    ends_at: new Date(2030, 4, 1, 8, 30).toISOString(),
    member_limit: 8,
    image_id: 'img',
    location,
    region: '서울특별시 영등포구',
    member_count: 1,
    like_count: 0,
    liked_by_me: false,
    comment_count: 0,
    ended: false,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
  };

  it('keeps the region of the meetup, so its place stays accepted and is not sent again', () => {
    const d = draftOf(meetup);
    expect(d.place?.region).toBe('서울특별시 영등포구');
    expect(validate(d)).toBeNull();
    expect(changes(meetup, d)).toEqual({});
  });

  it('sends only what changed, and null to remove the limit or the image', () => {
    const d = draftOf(meetup);
    expect(changes(meetup, d)).toEqual({});
    d.title = '저녁 스트레칭';
    d.limit = '';
    d.imageId = null;
    expect(changes(meetup, d)).toEqual({ title: '저녁 스트레칭', member_limit: null, image_id: null });
    d.place = { ...place, place_name: '뚝섬 한강공원' };
    expect(changes(meetup, d).location?.place_name).toBe('뚝섬 한강공원');
  });
});

describe('images and short texts', () => {
  it('takes JPEG, PNG or WebP of at most 5 MB', () => {
    expect(checkImage({ type: 'image/png', size: 5 * 1024 * 1024 })).toBeNull();
    expect(checkImage({ type: 'image/webp', size: 10 })).toBeNull();
    expect(checkImage({ type: 'image/gif', size: 10 })).toBe('image_type');
    expect(checkImage({ type: 'image/jpeg', size: 5 * 1024 * 1024 + 1 })).toBe('image_too_large');
  });

  it('trims a message and keeps it within its limit', () => {
    expect(textWithin('  안녕  ', 250)).toBe('안녕');
    expect(textWithin('   ', 250)).toBeNull();
    expect(textWithin('가'.repeat(51), 50)).toBeNull();
  });
});
