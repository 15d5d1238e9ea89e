import { describe, expect, it } from 'vitest';
import { barHeights, dayLabel, dayOfMonth, gridCells, monthLabel, weeksOf, minutesToTime, monthOf, shiftMonth, stepWeek, timeToMinutes, weekday } from './calendar';
import type { MonthGrid } from './types';

describe('tracker and chart dates', () => {
  it('browses months across year ends', () => {
    expect(shiftMonth({ year: 2026, month: 1 }, -1)).toEqual({ year: 2025, month: 12 });
    expect(shiftMonth({ year: 2025, month: 12 }, 1)).toEqual({ year: 2026, month: 1 });
    expect(shiftMonth({ year: 2026, month: 11 }, -23)).toEqual({ year: 2024, month: 12 });
    expect(monthOf('2026-11-26')).toEqual({ year: 2026, month: 11 });
    expect(monthLabel({ year: 2026, month: 11 }, 'ko')).toBe('2026년 11월');
    expect(monthLabel({ year: 2026, month: 1 }, 'en')).toBe('January 2026');
    // A day as a screen reader says it, whatever the device's time zone.
    expect(dayLabel('2026-11-05', 'ko')).toBe('11월 5일 (목)');
    expect(dayLabel('2026-11-05', 'en')).toBe('Thu, Nov 5');
  });

  it('steps weeks from the week asked for last, between the first week and the current one', () => {
    expect(stepWeek(null, 5, -1)).toBe(4);
    expect(stepWeek(4, 5, -1)).toBe(3);
    expect(stepWeek(1, 5, -1)).toBe(1);
    expect(stepWeek(5, 5, 1)).toBe(5);
    expect(stepWeek(null, 5, 1)).toBe(5);
  });

  it('starts the grid on Sunday with blanks before the 1st', () => {
    const grid: MonthGrid = {
      year: 2026,
      month: 11,
      first_weekday: 0,
      days: [{ date: '2026-11-01', marked: true, actions: 3 }],
    };
    expect(gridCells(grid)).toEqual(grid.days);
    const cells = gridCells({ ...grid, first_weekday: 3 });
    expect(cells.slice(0, 3)).toEqual([null, null, null]);
    expect(cells[3]?.date).toBe('2026-11-01');
    expect(weeksOf([1, 2, 3, 4, 5, 6, 7, 8, 9]).map((w) => w.length)).toEqual([7, 2]);
  });

  it('reads weekdays and days of the month from local dates', () => {
    expect(weekday('2026-11-01')).toBe(0);
    expect(weekday('2026-11-26')).toBe(4);
    expect(dayOfMonth('2026-11-09')).toBe(9);
  });

  it('scales bars to the tallest, an empty week staying flat', () => {
    const bars = [0, 2, 4].map((count, i) => ({ date: `2026-11-0${i + 1}`, count, today: false }));
    expect(barHeights(bars)).toEqual([0, 50, 100]);
    expect(barHeights(bars.map((b) => ({ ...b, count: 0 })))).toEqual([0, 0, 0]);
  });

  it('turns reminder minutes into a time and back', () => {
    expect(minutesToTime(null)).toBe('');
    expect(minutesToTime(0)).toBe('00:00');
    expect(minutesToTime(21 * 60 + 5)).toBe('21:05');
    expect(timeToMinutes('21:05')).toBe(1265);
    expect(timeToMinutes('')).toBeNull();
    expect(timeToMinutes('24:00')).toBeNull();
    expect(timeToMinutes('7:30')).toBe(450);
  });
});
