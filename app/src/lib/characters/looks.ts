// The three characters' colours and the look a level shows (PRODUCT.md §4): Lv 1–3 → 1,
// Lv 4–6 → 2, Lv 7–10 → 3. The engine reports the look too; this is for the collection,
// which shows every look of a character.
import type { Character } from '../types';

export type Look = 1 | 2 | 3;
export const LOOKS: readonly Look[] = [1, 2, 3];

export interface Palette {
  body: string;
  shade: string;
  accent: string;
}

export const PALETTES: Record<Character, Palette> = {
  mingi: { body: '#b69cff', shade: '#8b5cf6', accent: '#ff8fb1' },
  muneo: { body: '#ffb38a', shade: '#f97362', accent: '#7dd3fc' },
  mongsil: { body: '#fff7e8', shade: '#e9d5ff', accent: '#86efac' },
};

export function lookOf(level: number): Look {
  if (level >= 7) return 3;
  if (level >= 4) return 2;
  return 1;
}

/** The lowest level that shows a look, for the collection's captions. */
export function firstLevelOf(look: Look): number {
  return look === 1 ? 1 : look === 2 ? 4 : 7;
}
