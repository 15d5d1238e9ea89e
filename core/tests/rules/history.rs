//! History (§5): the month tracker, weekly pages and streaks; and the fold, appended in parts.

use chrono::NaiveDate;
use mingizuk_core::fold::{self, Derived};
use mingizuk_core::history::{self, ChartMode};

use crate::support::{KST, User, date, day_exp, local};

/// A user who did `per_day[i]` actions of a two-action routine on the given days.
fn history_of(days: &[(&str, usize)]) -> User {
    let mut user = User::new();
    let pair = user.create("둘", &[("squat", 10), ("lunge", 10)]);
    user.draw(local(date(days[0].0), 5, 0, KST), 0).unwrap();
    for (day, count) in days {
        for i in 0..*count {
            user.next_action(pair, local(date(day), 7, i as u32, KST));
        }
    }
    user
}

#[test]
fn the_tracker_marks_days_with_at_least_one_action() {
    let user = history_of(&[("2025-03-01", 1), ("2025-03-02", 3), ("2025-03-31", 2), ("2025-04-01", 1)]);
    let derived = user.derived();
    let march = history::month_grid(&derived, 2025, 3).unwrap();
    assert_eq!((march.year, march.month, march.days.len()), (2025, 3, 31));
    assert_eq!(march.first_weekday, 6, "2025-03-01 is a Saturday; the grid starts on Sunday");
    let marked: Vec<u32> = march.days.iter().filter(|d| d.marked).map(|d| chrono::Datelike::day(&d.date)).collect();
    assert_eq!(marked, [1, 2, 31]);
    assert_eq!(march.days[1].actions, 3);
    assert_eq!(march.days[2].actions, 0);
    let april = history::month_grid(&derived, 2025, 4).unwrap();
    assert_eq!((april.days.len(), april.first_weekday), (30, 2));
    assert_eq!(april.days.iter().filter(|d| d.marked).count(), 1);
    assert_eq!(history::month_grid(&derived, 2024, 2).unwrap().days.len(), 29);
    assert_eq!(history::month_grid(&derived, 2025, 13), None);
    assert_eq!(history::month_grid(&derived, 2025, 0), None);
}

#[test]
fn weekly_pages_are_numbered_from_the_start_date() {
    let user = history_of(&[("2025-03-03", 3), ("2025-03-05", 1), ("2025-03-12", 2)]);
    let derived = user.derived();
    let today = date("2025-03-12");
    let start = history::start_date(&derived, Some(date("2025-03-04")), today);
    assert_eq!(start, date("2025-03-03"), "the first completion is earlier than the device's start");
    assert_eq!(history::start_date(&derived, Some(date("2025-03-01")), today), date("2025-03-01"));
    assert_eq!(history::start_date(&Derived::default(), None, today), today);
    assert_eq!(history::start_date(&Derived::default(), Some(date("2025-04-01")), today), today);

    let first = history::week_page(&derived, start, today, 1, ChartMode::Actions);
    assert_eq!((first.week, first.current_week, first.day_number), (1, 2, 10));
    let dates: Vec<_> = first.bars.iter().map(|b| b.date).collect();
    assert_eq!(dates, (3..=9).map(|d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap()).collect::<Vec<_>>());
    let counts: Vec<u32> = first.bars.iter().map(|b| b.count).collect();
    assert_eq!(counts, [3, 0, 1, 0, 0, 0, 0]);
    assert!(first.bars.iter().all(|b| !b.today));

    let routines = history::week_page(&derived, start, today, 1, ChartMode::Routines);
    let counts: Vec<u32> = routines.bars.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 0, 1, 0, 0, 0, 0], "3 then 1 actions of a two-action routine: 2 routines");

    let current = history::week_page(&derived, start, today, 2, ChartMode::Actions);
    assert_eq!(current.bars[0].date, date("2025-03-10"));
    let today_bars: Vec<_> = current.bars.iter().filter(|b| b.today).map(|b| (b.date, b.count)).collect();
    assert_eq!(today_bars, [(today, 2)]);
    assert_eq!(history::week_page(&derived, start, today, 99, ChartMode::Actions), current, "clamped to this week");
    assert_eq!(history::week_page(&derived, start, today, 0, ChartMode::Actions), first, "clamped to week 1");

    let first_day = history::week_page(&derived, start, start, 1, ChartMode::Actions);
    assert_eq!((first_day.week, first_day.current_week, first_day.day_number), (1, 1, 1));
    let week_two = history::week_page(&derived, start, date("2025-03-10"), 2, ChartMode::Actions);
    assert_eq!((week_two.week, week_two.day_number), (2, 8));
}

#[test]
fn streaks_count_marked_days_and_an_open_today_does_not_break_them() {
    let user =
        history_of(&[("2025-03-01", 1), ("2025-03-02", 1), ("2025-03-03", 1), ("2025-03-05", 2), ("2025-03-06", 1)]);
    let derived = user.derived();
    let at = |d: &str| history::streaks(&derived, date(d));
    assert_eq!((at("2025-03-06").current, at("2025-03-06").best), (2, 3));
    // Today not done yet: the streak up to yesterday still stands.
    assert_eq!((at("2025-03-07").current, at("2025-03-07").best), (2, 3));
    // Yesterday missed: the current streak is broken.
    assert_eq!((at("2025-03-08").current, at("2025-03-08").best), (0, 3));
    assert_eq!((at("2025-03-03").current, at("2025-03-03").best), (3, 3));
    assert_eq!((at("2025-03-04").current, at("2025-03-02").best), (3, 2), "days after today do not count");
    assert_eq!(history::streaks(&Derived::default(), date("2025-03-01")), history::Streaks::default());
    assert_eq!(derived.action_totals["squat"] + derived.action_totals["lunge"], 6);
    assert_eq!(derived.action_totals["squat"], 3);
}

// ---- the fold ----

#[test]
fn appending_later_events_gives_the_same_result_as_folding_everything() {
    let mut user = history_of(&[("2025-02-27", 5), ("2025-02-28", 21), ("2025-03-01", 3)]);
    let three = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    user.complete_first(three, 2, local(date("2025-03-01"), 20, 0, KST));
    // The edit makes the cycle complete without recording it: the fold implies its bonus.
    user.edit(three, "셋", &[("squat", 10), ("lunge", 10)]).unwrap();
    let whole = user.derived();
    assert_eq!(day_exp(&whole, date("2025-02-28")), 2000);

    let implied = fold::implied_completions(&user.personal);
    assert_eq!(implied.len(), 1);
    let events = fold::sorted_events(&user.personal, &implied);
    for split in 0..=events.len() {
        let mut derived = Derived::default();
        assert!(derived.try_append(&events[..split]));
        assert!(derived.try_append(&events[split..]), "split at {split}");
        assert_eq!(derived, whole, "split at {split}");
    }
    let mut one_by_one = Derived::default();
    for event in &events {
        assert!(one_by_one.try_append(std::slice::from_ref(event)));
    }
    assert_eq!(one_by_one, whole);

    // An event that is not after the last one applied is refused, and nothing changes.
    let mut derived = whole.clone();
    assert!(!derived.try_append(&events[..1]));
    assert!(!derived.try_append(&events[events.len() - 1..]), "the last event again");
    assert_eq!(derived, whole);
    assert!(derived.try_append(&[]));
    assert_eq!(derived, whole);
}
