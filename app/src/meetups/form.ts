// The meetup form's rules, checked before anything is queued (the server checks them again):
// PRODUCT.md §6 limits, the datetime-local ↔ RFC 3339 conversion in the device's time zone, and
// the image checks made before an upload. Pure: no DOM, no commands.
import type { Location, Meetup, MeetupBody, Place } from './types';

// core/src/limits.rs's numbers; src-tauri/tests/contract.rs fails the type check if they part.
export const TITLE_MAX = 30;
export const CONTENTS_MAX = 500;
export const COMMENT_MAX = 50;
export const MESSAGE_MAX = 250;
export const MEMBER_LIMIT_MIN = 2;
export const MEMBER_LIMIT_MAX = 1000;
export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
export const PLACE_NAME_MAX = 100;
export const ADDRESS_MAX = 200;
/**
 * The one 시·도 without 시·군·구: its name alone is a whole region. core/src/region.rs's `SEJONG`;
 * region.test.ts fails if they part.
 */
export const SEJONG = '세종특별자치시';

/** A place picked from the search: the meetup's location and the region of its address. */
export interface PickedPlace extends Location {
  /** "시·도 시·군·구" (or 세종 alone); a 시·도 alone or null (not a Korean address) is refused. */
  region: string | null;
}

/** What the form holds while the host types. */
export interface Draft {
  title: string;
  contents: string;
  /** `YYYY-MM-DDTHH:mm`, as a datetime-local input gives it. */
  starts: string;
  ends: string;
  /** Empty: no limit. */
  limit: string;
  place: PickedPlace | null;
  imageId: string | null;
}

export type FormErrorCode =
  | 'invalid_title'
  | 'invalid_contents'
  | 'missing_period'
  | 'invalid_period'
  | 'invalid_member_limit'
  | 'missing_place'
  | 'invalid_place_name'
  | 'invalid_address'
  | 'invalid_coordinates';

export interface FormError {
  code: FormErrorCode;
  field: keyof Draft;
}

/** Characters as people count them (a Korean syllable or an emoji is one). */
export function chars(text: string): number {
  return [...text].length;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** A datetime-local value as RFC 3339 with the device's offset at that instant; null if malformed. */
export function toRfc3339(local: string): string | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((part) => Number(part ?? 0));
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(date.getTime()) || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  const wall = `${y}-${pad(mo)}-${pad(d)}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An RFC 3339 instant as a datetime-local value in the device's time zone. */
export function toLocalInput(rfc3339: string): string {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The first rule the draft breaks, in the order the form shows its fields. */
export function validate(draft: Draft): FormError | null {
  const title = draft.title.trim();
  if (chars(title) < 1 || chars(title) > TITLE_MAX) return { code: 'invalid_title', field: 'title' };
  if (chars(draft.contents.trim()) > CONTENTS_MAX) return { code: 'invalid_contents', field: 'contents' };
  const starts = toRfc3339(draft.starts);
  const ends = toRfc3339(draft.ends);
  if (!starts) return { code: 'missing_period', field: 'starts' };
  if (!ends) return { code: 'missing_period', field: 'ends' };
  if (Date.parse(starts) > Date.parse(ends)) return { code: 'invalid_period', field: 'ends' };
  if (draft.limit.trim() !== '') {
    const limit = Number(draft.limit);
    if (!Number.isInteger(limit) || limit < MEMBER_LIMIT_MIN || limit > MEMBER_LIMIT_MAX) {
      return { code: 'invalid_member_limit', field: 'limit' };
    }
  }
  if (!draft.place) return { code: 'missing_place', field: 'place' };
  const refused = placeProblem(draft.place);
  return refused ? { code: refused, field: 'place' } : null;
}

/**
 * Why the server would refuse `place` (sync-server/src/meetups/rules.rs, in its order): a name of
 * 1 to 100 characters; an address of at most 200 that names its 시·도 and 시·군·구 (the server
 * derives the region from it and refuses a bare 시·도 or a foreign address); coordinates on Earth.
 */
function placeProblem(place: PickedPlace): FormErrorCode | null {
  const name = chars(place.place_name.trim());
  if (name < 1 || name > PLACE_NAME_MAX) return 'invalid_place_name';
  const region = place.region;
  const whole = region !== null && (region.includes(' ') || region === SEJONG);
  if (!whole || chars(place.address.trim()) > ADDRESS_MAX) return 'invalid_address';
  if (!(Math.abs(place.lat) <= 90 && Math.abs(place.lng) <= 180)) return 'invalid_coordinates';
  return null;
}

/** The body `create_meetup` takes; call only on a draft `validate` accepted. */
export function toBody(draft: Draft): MeetupBody {
  const place = draft.place as Location;
  return {
    title: draft.title.trim(),
    contents: draft.contents.trim(),
    starts_at: toRfc3339(draft.starts) as string,
    ends_at: toRfc3339(draft.ends) as string,
    member_limit: draft.limit.trim() === '' ? null : Number(draft.limit),
    image_id: draft.imageId,
    location: {
      place_name: place.place_name,
      address: place.address,
      lat: place.lat,
      lng: place.lng,
    },
  };
}

/** The fields of `draft` that differ from `meetup`, for `edit_meetup` (null removes a limit or image). */
export function changes(meetup: Meetup, draft: Draft): Partial<MeetupBody> {
  const body = toBody(draft);
  const out: Partial<MeetupBody> = {};
  if (body.title !== meetup.title) out.title = body.title;
  if (body.contents !== meetup.contents) out.contents = body.contents;
  if (Date.parse(body.starts_at) !== Date.parse(meetup.starts_at)) out.starts_at = body.starts_at;
  if (Date.parse(body.ends_at) !== Date.parse(meetup.ends_at)) out.ends_at = body.ends_at;
  if (body.member_limit !== meetup.member_limit) out.member_limit = body.member_limit;
  if (body.image_id !== meetup.image_id) out.image_id = body.image_id;
  const a = body.location;
  const b = meetup.location;
  if (a.place_name !== b.place_name || a.address !== b.address || a.lat !== b.lat || a.lng !== b.lng) {
    out.location = a;
  }
  return out;
}

/** A fresh draft, or the meetup's fields to edit. */
export function draftOf(meetup: Meetup | null): Draft {
  if (!meetup) {
    return { title: '', contents: '', starts: '', ends: '', limit: '', place: null, imageId: null };
  }
  return {
    title: meetup.title,
    contents: meetup.contents,
    starts: toLocalInput(meetup.starts_at),
    ends: toLocalInput(meetup.ends_at),
    limit: meetup.member_limit === null ? '' : String(meetup.member_limit),
    place: { ...meetup.location, region: meetup.region },
    imageId: meetup.image_id,
  };
}

/** A place search result as the meetup's location, with its region for `validate`. */
export function locationOf(place: Place): PickedPlace {
  return { place_name: place.name, address: place.address, lat: place.lat, lng: place.lng, region: place.region };
}

export type ImageErrorCode = 'image_type' | 'image_too_large';

/** Why an image file cannot be the meetup's image, or null when it can. */
export function checkImage(file: { type: string; size: number }): ImageErrorCode | null {
  if (!IMAGE_TYPES.includes(file.type)) return 'image_type';
  if (file.size > IMAGE_MAX_BYTES) return 'image_too_large';
  return null;
}

/** A chat message or comment as typed: its trimmed text if it has 1 to `max` characters. */
export function textWithin(text: string, max: number): string | null {
  const trimmed = text.trim();
  return chars(trimmed) >= 1 && chars(text) <= max ? trimmed : null;
}
