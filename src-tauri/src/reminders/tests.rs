//! The reminders' rules: when the daily reminder comes, which meetups are announced and when.

#![allow(clippy::unwrap_used)]

use super::*;

fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap()
}

fn situation(now: &str, reminder: Option<u16>, done: bool) -> Situation {
    Situation { now: at(now), reminder_minutes: reminder, main_done_today: done, joined: Vec::new() }
}

const NINE: Option<u16> = Some(9 * 60);

#[test]
fn the_daily_reminder_comes_at_its_time_when_the_main_routine_is_not_done() {
    assert_eq!(due(&situation("2026-11-26T09:00:00+09:00", NINE, false), &Sent::default()), vec![Reminder::Daily]);
    assert_eq!(due(&situation("2026-11-26T09:59:00+09:00", NINE, false), &Sent::default()), vec![Reminder::Daily]);
}

#[test]
fn the_daily_reminder_stays_quiet_before_its_time_late_after_it_and_when_unset() {
    assert!(due(&situation("2026-11-26T08:59:00+09:00", NINE, false), &Sent::default()).is_empty());
    assert!(due(&situation("2026-11-26T10:00:00+09:00", NINE, false), &Sent::default()).is_empty());
    assert!(due(&situation("2026-11-26T09:00:00+09:00", None, false), &Sent::default()).is_empty());
}

#[test]
fn the_daily_reminder_stays_quiet_when_the_main_routine_is_done_today() {
    assert!(due(&situation("2026-11-26T09:10:00+09:00", NINE, true), &Sent::default()).is_empty());
}

#[test]
fn the_daily_reminder_comes_once_a_day_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = situation("2026-11-26T09:00:00+09:00", NINE, false);
    let mut sent = Sent::default();
    let reminders = due(&first, &sent);
    sent.record(&first, &reminders);
    sent.save(dir.path()).unwrap();

    let restarted = Sent::load(dir.path());
    assert!(due(&situation("2026-11-26T09:01:00+09:00", NINE, false), &restarted).is_empty());
    assert_eq!(due(&situation("2026-11-27T09:00:00+09:00", NINE, false), &restarted), vec![Reminder::Daily]);
}

#[test]
fn the_daily_reminder_follows_the_local_clock_not_utc() {
    // 09:05 in Seoul is 00:05 UTC: the reminder is at 9 local, not at 9 UTC (18:00 in Seoul).
    let seoul = situation("2026-11-26T09:05:00+09:00", NINE, false);
    assert_eq!(due(&seoul, &Sent::default()), vec![Reminder::Daily]);
    let nine_utc = situation("2026-11-26T18:05:00+09:00", NINE, false);
    assert!(due(&nine_utc, &Sent::default()).is_empty());
    // A reminder at 00:00 with 00:05 UTC at hand: 09:05 in Seoul, not its time there.
    assert!(due(&situation("2026-11-26T09:05:00+09:00", Some(0), false), &Sent::default()).is_empty());
}

fn meetup(id: MeetupId, starts: &str) -> Upcoming {
    Upcoming { id, title: format!("meetup {id}"), starts_at: at(starts).with_timezone(&Utc) }
}

#[test]
fn a_joined_meetup_is_announced_once_within_half_an_hour_of_its_start() {
    let mut now = situation("2026-11-26T18:30:00+09:00", None, false);
    now.joined = vec![
        meetup(1, "2026-11-26T19:00:00+09:00"),
        meetup(2, "2026-11-26T19:01:00+09:00"),
        meetup(3, "2026-11-26T18:29:00+09:00"),
    ];
    let reminders = due(&now, &Sent::default());
    assert_eq!(reminders, vec![Reminder::Meetup { id: 1, title: "meetup 1".into(), minutes_left: 30 }]);

    let mut sent = Sent::default();
    sent.record(&now, &reminders);
    now.now = at("2026-11-26T18:40:00+09:00");
    let later = due(&now, &sent);
    assert_eq!(later, vec![Reminder::Meetup { id: 2, title: "meetup 2".into(), minutes_left: 21 }]);
}

#[tokio::test]
async fn the_reminders_look_again_once_the_server_confirmed_the_join_not_before_nor_after_a_refusal() {
    let wake = Arc::new(Notify::new());
    // A receiver kept open: a send must not fail once the waiting task gave up and dropped its own.
    let (events, _open) = broadcast::channel(16);
    look_once_sent(&wake, events.subscribe(), "join-1");
    events.send(SocialEvent::Sent { key: "another write".into() }).unwrap();
    let early = tokio::time::timeout(Duration::from_millis(200), wake.notified()).await;
    assert!(early.is_err(), "another write's confirmation does not wake the reminders");
    events.send(SocialEvent::Sent { key: "join-1".into() }).unwrap();
    tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.unwrap();

    look_once_sent(&wake, events.subscribe(), "join-2");
    events
        .send(SocialEvent::Refused { key: "join-2".into(), code: "meetup_full".into(), message: String::new() })
        .unwrap();
    events.send(SocialEvent::Sent { key: "join-2".into() }).unwrap();
    let refused = tokio::time::timeout(Duration::from_millis(200), wake.notified()).await;
    assert!(refused.is_err(), "a refused join changes nothing to remind of");
}

#[test]
fn announced_meetups_are_forgotten_a_day_after_they_start() {
    let mut now = situation("2026-11-26T18:45:00+09:00", None, false);
    now.joined = vec![meetup(1, "2026-11-26T19:00:00+09:00")];
    let mut sent = Sent::default();
    sent.record(&now, &due(&now, &sent));
    assert!(sent.meetups.contains_key(&1));
    let next_week = situation("2026-12-03T18:45:00+09:00", None, false);
    sent.record(&next_week, &[]);
    assert!(sent.meetups.is_empty());
}

fn listed(id: MeetupId, starts: &str) -> serde_json::Value {
    serde_json::json!({ "id": id, "title": format!("meetup {id}"), "starts_at": starts })
}

#[tokio::test]
async fn a_meetup_the_user_hosts_is_announced_like_one_they_joined_and_each_only_once() {
    // As the server lists them: a hosted meetup only among the hosted, never among the joined.
    let lists = |role: Role| async move {
        Ok(match role {
            Role::Host => vec![listed(1, "2026-11-26T19:00:00+09:00"), listed(3, "2026-11-26T19:10:00+09:00")],
            Role::Member => vec![listed(2, "2026-11-26T19:05:00+09:00"), listed(3, "2026-11-26T19:10:00+09:00")],
            Role::Liked => vec![listed(4, "2026-11-26T19:00:00+09:00")],
        })
    };
    let mut now = situation("2026-11-26T18:45:00+09:00", None, false);
    now.joined = joined_in(lists).await;
    let announced: Vec<MeetupId> = due(&now, &Sent::default())
        .into_iter()
        .map(|r| match r {
            Reminder::Meetup { id, .. } => id,
            Reminder::Daily => panic!("no daily reminder is set"),
        })
        .collect();
    assert_eq!(announced, [1, 3, 2], "hosted and joined, each once; liked is not joined");
}

#[tokio::test]
async fn one_list_that_cannot_be_read_does_not_hide_the_other() {
    let lists = |role: Role| async move {
        match role {
            Role::Member => Err(mingizuk_client::ClientError::Network("offline, nothing cached".into())),
            _ => Ok(vec![listed(1, "2026-11-26T19:00:00+09:00")]),
        }
    };
    let joined = joined_in(lists).await;
    assert_eq!(joined.iter().map(|m| m.id).collect::<Vec<_>>(), [1]);
}

#[test]
fn a_meetup_moved_to_a_new_time_after_it_was_announced_is_announced_again_before_it() {
    let mut now = situation("2026-11-26T18:30:00+09:00", None, false);
    now.joined = vec![meetup(1, "2026-11-26T19:00:00+09:00")];
    let mut sent = Sent::default();
    sent.record(&now, &due(&now, &sent));
    // The host moves it to 19:20; at 18:55 it starts within half an hour again.
    now.now = at("2026-11-26T18:55:00+09:00");
    now.joined = vec![meetup(1, "2026-11-26T19:20:00+09:00")];
    let again = due(&now, &sent);
    assert_eq!(again, vec![Reminder::Meetup { id: 1, title: "meetup 1".into(), minutes_left: 25 }]);
    sent.record(&now, &again);
    now.now = at("2026-11-26T19:00:00+09:00");
    assert!(due(&now, &sent).is_empty(), "once for its new time");
}

#[test]
fn a_meetup_left_or_deleted_on_this_device_is_not_announced_while_the_server_has_not_answered() {
    let item = |key: &str, kind: &str, method: &str, path: &str, refused: Option<(String, String)>| OutboxItem {
        key: key.into(),
        write: Write::Http { kind: kind.into(), method: method.into(), path: path.into(), body: None },
        attempts: 0,
        refused,
        created_at_ms: 0,
        sent_at_ms: None,
    };
    let outbox = [
        item("a", kind::LEAVE, "DELETE", "/v1/meetups/7/members/me", None),
        item("b", kind::DELETE_MEETUP, "DELETE", "/v1/meetups/8", None),
        item("c", kind::JOIN, "POST", "/v1/meetups/9/members", None),
        // The host cannot leave: refused, so still joined.
        item("d", kind::LEAVE, "DELETE", "/v1/meetups/10/members/me", Some(("host_cannot_leave".into(), "".into()))),
        item("e", kind::COMMENT, "POST", "/v1/meetups/11/comments", None),
    ];
    assert_eq!(leaving(&outbox).into_iter().collect::<Vec<_>>(), [7, 8]);
}
