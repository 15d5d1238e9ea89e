// Date helpers for the tracker, the weekly chart and the reminder: pure functions over the
// engine's "YYYY-MM-DD" local dates. They never read the clock; "today" comes from the engine.
import { localeOf } from './i18n.svelte';
import type { Bar, MonthGrid, TrackerDay } from './types';

export interface YearMonth {
  year: number;
  month: number;
}

/** The month `delta` months away (month is 1–12). */
export function shiftMonth({ year, month }: YearMonth, delta: number): YearMonth {
  const index = year * 12 + (month - 1) + delta;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** The week `delta` weeks from `from` (null: the current week), kept within 1…`current`. */
export function stepWeek(from: number | null, current: number, delta: number): number {
  return Math.min(current, Math.max(1, (from ?? current) + delta));
}

/** "2026년 11월" / "November 2026". */
export function monthLabel({ year, month }: YearMonth, lang: 'ko' | 'en'): string {
  return new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(localeOf(lang), {
    year: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  });
}

/** "2026-11-05" read aloud: "11월 5일 (목)" / "Thu, Nov 5" (a screen reader reads ISO digits). */
export function dayLabel(date: string, lang: 'ko' | 'en'): string {
  const [year, month, day] = date.split('-').map(Number);
  if (!year || !month || !day) return date;
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString(localeOf(lang), {
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    timeZone: 'UTC',
  });
}

/** "YYYY-MM-DD" → its year and month. */
export function monthOf(date: string): YearMonth {
  const [year, month] = date.split('-').map(Number);
  return { year, month };
}

/** The tracker's cells: blanks before the 1st (the grid starts on Sunday), then the days. */
export function gridCells(grid: MonthGrid): (TrackerDay | null)[] {
  const blanks: null[] = Array.from({ length: grid.first_weekday }, () => null);
  return [...blanks, ...grid.days];
}

/** Cells in rows of seven (the grid's weeks). */
export function weeksOf<T>(cells: readonly T[]): T[][] {
  const weeks: T[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** 0 = Sunday … 6 = Saturday for a "YYYY-MM-DD" date. */
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** Day of the month of a "YYYY-MM-DD" date. */
export function dayOfMonth(date: string): number {
  return Number(date.slice(8, 10));
}

/** Bar heights as a percentage of the tallest bar; an empty week is all zero. */
export function barHeights(bars: readonly Bar[]): number[] {
  const max = Math.max(0, ...bars.map((b) => b.count));
  return bars.map((b) => (max === 0 ? 0 : Math.round((b.count / max) * 100)));
}

/** Minutes after midnight → "HH:MM" (the value of an `<input type="time">`). */
export function minutesToTime(minutes: number | null): string {
  if (minutes === null) return '';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** "HH:MM" → minutes after midnight; an empty or malformed value is null (no reminder). */
export function timeToMinutes(time: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(time.trim());
  if (!match) return null;
  const h = Number(match[1]);
  const m = Number(match[2]);
  if (h > 23 || m > 59) return null;
  return h * 60 + m;
}
