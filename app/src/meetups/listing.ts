// The meetup list's pages: a next page is appended without repeating a meetup already shown (a
// meetup liked between two pages of "most liked" can come back), and a fresh meetup replaces its
// older copy in place.
import type { Meetup } from './types';

export function appendPage(shown: Meetup[], page: Meetup[]): Meetup[] {
  const index = new Map(shown.map((m, i) => [m.id, i]));
  const out = [...shown];
  for (const meetup of page) {
    const at = index.get(meetup.id);
    if (at === undefined) {
      index.set(meetup.id, out.length);
      out.push(meetup);
    } else {
      out[at] = meetup;
    }
  }
  return out;
}

/** The 17 시·도, for the region filter (the server also accepts short names such as 서울). */
export const PROVINCES = [
  '서울특별시',
  '부산광역시',
  '대구광역시',
  '인천광역시',
  '광주광역시',
  '대전광역시',
  '울산광역시',
  '세종특별자치시',
  '경기도',
  '강원특별자치도',
  '충청북도',
  '충청남도',
  '전북특별자치도',
  '전라남도',
  '경상북도',
  '경상남도',
  '제주특별자치도',
];

/** The filter as the command takes it: trimmed, blanks collapsed, null for none. */
export function regionFilter(text: string): string | null {
  const cleaned = text.trim().replace(/\s+/g, ' ');
  return cleaned === '' ? null : cleaned;
}
