//! Conformance suite, meetup rooms: membership kept with the join and leave system messages in one
//! transaction, gapless per-meetup sequence numbers, resends stored once, history pages. Each test
//! runs against SQLite and against MySQL/MariaDB (see `storage.rs`).

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::TestDb;
use mingizuk_server::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Posted, Sender};
use mingizuk_server::storage::meetups::{Join, Leave};
use mingizuk_server::storage::{NewUser, Storage, StorageError, UserId};

conformance!(
    a_new_meetup_has_its_host_as_its_only_member_and_an_empty_room,
    joining_posts_a_join_message_and_joining_twice_is_refused,
    a_full_or_ended_meetup_refuses_new_members,
    the_host_cannot_leave_and_a_member_leaving_posts_a_leave_message,
    concurrent_posts_get_sequence_numbers_from_one_without_gaps,
    a_resent_message_is_stored_once_with_its_first_sequence_number,
    history_pages_go_newest_first_and_catch_up_oldest_first,
    an_unknown_meetup_is_reported_as_such,
    purging_an_account_removes_the_meetups_it_hosts_and_leaves_its_messages_elsewhere_without_a_sender,
    a_batch_of_messages_is_stored_in_order_in_one_go_and_its_resends_once,
    batches_of_many_rooms_at_once_keep_each_rooms_sequence_and_outcome,
    a_batch_stores_members_messages_only_and_nothing_after_the_end,
    a_batch_of_thousands_of_messages_in_many_rooms_is_stored_whole_and_resent_whole,
    the_notice_is_set_replaced_and_removed,
);

async fn person(storage: &dyn Storage, name: &str) -> Sender {
    let new = NewUser {
        id: UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.to_owned(),
        password_hash: None,
    };
    let user = storage.create_user(&new).await.expect("create user");
    Sender { id: user.id, nickname: user.nickname }
}

async fn meetup(storage: &dyn Storage, host: &Sender, member_limit: Option<u32>, ends_in: Duration) -> MeetupId {
    common::meetup(storage, host.id, member_limit, ends_in).await
}

/// A batch outcome as (message, stored now), for a message that was stored now or before.
fn acked(posted: &Posted) -> (&ChatMessage, bool) {
    match posted {
        Posted::Stored(message) => (message, true),
        Posted::Resent(message) => (message, false),
        refused => panic!("refused: {refused:?}"),
    }
}

fn text<'a>(meetup: MeetupId, sender: &'a Sender, client_id: uuid::Uuid, text: &'a str) -> NewMessage<'a> {
    NewMessage { meetup_id: meetup, kind: MessageKind::Text, sender, client_id: Some(client_id), text }
}

async fn a_new_meetup_has_its_host_as_its_only_member_and_an_empty_room(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let other = person(storage, "other").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    let access = storage.room_access(id, host.id).await.expect("access").expect("meetup exists");
    assert!(access.member && access.host);
    let access = storage.room_access(id, other.id).await.expect("access").expect("meetup exists");
    assert!(!access.member && !access.host);
    assert!(storage.messages_after(id, 0, 50).await.expect("read").is_empty());
}

async fn joining_posts_a_join_message_and_joining_twice_is_refused(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    let Join::Joined(message) = storage.join_meetup(id, &ana, Utc::now()).await.expect("join") else {
        panic!("ana could not join");
    };
    assert_eq!((message.seq, message.kind, message.sender.as_ref()), (1, MessageKind::Join, Some(&ana)));
    assert!(storage.room_access(id, ana.id).await.expect("access").expect("exists").member);
    assert_eq!(storage.join_meetup(id, &ana, Utc::now()).await.expect("join again"), Join::AlreadyMember);
    assert_eq!(storage.join_meetup(id, &host, Utc::now()).await.expect("host joins"), Join::AlreadyMember);
    assert_eq!(storage.messages_after(id, 0, 50).await.expect("read"), vec![message]);
}

async fn a_full_or_ended_meetup_refuses_new_members(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let bo = person(storage, "bo").await;
    // A limit of two: the host and one more.
    let small = meetup(storage, &host, Some(2), Duration::days(1)).await;
    assert!(matches!(storage.join_meetup(small, &ana, Utc::now()).await.expect("join"), Join::Joined(_)));
    assert_eq!(storage.join_meetup(small, &bo, Utc::now()).await.expect("join"), Join::Full);
    let ended = meetup(storage, &host, None, Duration::days(1)).await;
    let after_the_end = Utc::now() + Duration::days(2);
    assert_eq!(storage.join_meetup(ended, &bo, after_the_end).await.expect("join"), Join::Ended);
    assert!(!storage.room_access(ended, bo.id).await.expect("access").expect("exists").member);
}

async fn the_host_cannot_leave_and_a_member_leaving_posts_a_leave_message(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    assert_eq!(storage.leave_meetup(id, &host).await.expect("leave"), Leave::Host);
    assert_eq!(storage.leave_meetup(id, &ana).await.expect("leave"), Leave::NotMember);
    storage.join_meetup(id, &ana, Utc::now()).await.expect("join");
    let Leave::Left(message) = storage.leave_meetup(id, &ana).await.expect("leave") else {
        panic!("ana could not leave")
    };
    assert_eq!((message.seq, message.kind), (2, MessageKind::Leave));
    assert!(!storage.room_access(id, ana.id).await.expect("access").expect("exists").member);
}

async fn concurrent_posts_get_sequence_numbers_from_one_without_gaps(db: TestDb) {
    let storage = db.shared();
    let host = person(&*storage, "host").await;
    let id = meetup(&*storage, &host, None, Duration::days(1)).await;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let storage = Arc::clone(&storage);
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let body = format!("{writer}-{n}");
                storage.post_message(&text(id, &host, uuid::Uuid::new_v4(), &body)).await.expect("post");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let messages = storage.messages_after(id, 0, 1000).await.expect("read");
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=80).collect::<Vec<i64>>());
    let texts: BTreeSet<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts.len(), 80, "every message once");
}

async fn a_resent_message_is_stored_once_with_its_first_sequence_number(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    let client_id = uuid::Uuid::new_v4();
    let (first, stored) = storage.post_message(&text(id, &host, client_id, "안녕")).await.expect("post");
    assert!(stored);
    storage.post_message(&text(id, &host, uuid::Uuid::new_v4(), "다음")).await.expect("post");
    let (again, stored) = storage.post_message(&text(id, &host, client_id, "안녕")).await.expect("resend");
    assert!(!stored);
    assert_eq!(again, first);
    assert_eq!(storage.messages_after(id, 0, 50).await.expect("read").len(), 2);
}

async fn history_pages_go_newest_first_and_catch_up_oldest_first(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    for n in 1..=120 {
        storage.post_message(&text(id, &host, uuid::Uuid::new_v4(), &n.to_string())).await.expect("post");
    }
    let newest = storage.messages_before(id, None, 50).await.expect("page");
    assert_eq!(newest.iter().map(|m| m.seq).collect::<Vec<_>>(), (71..=120).rev().collect::<Vec<i64>>());
    let older = storage.messages_before(id, Some(71), 50).await.expect("page");
    assert_eq!(older.first().map(|m| m.seq), Some(70));
    let oldest = storage.messages_before(id, Some(21), 50).await.expect("page");
    assert_eq!(oldest.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=20).rev().collect::<Vec<i64>>());
    let missed = storage.messages_after(id, 115, 50).await.expect("catch up");
    assert_eq!(missed.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![116, 117, 118, 119, 120]);
    assert_eq!(missed[0].text, "116");
    assert_eq!(missed[0].sender.as_ref(), Some(&host));
}

async fn an_unknown_meetup_is_reported_as_such(db: TestDb) {
    let storage = db.storage();
    let ana = person(storage, "ana").await;
    assert_eq!(storage.room_access(9_999, ana.id).await.expect("access"), None);
    let result = storage.join_meetup(9_999, &ana, Utc::now()).await;
    assert!(matches!(result, Err(StorageError::UnknownMeetup)), "{result:?}");
    let result = storage.leave_meetup(9_999, &ana).await;
    assert!(matches!(result, Err(StorageError::UnknownMeetup)), "{result:?}");
    let result = storage.post_message(&text(9_999, &ana, uuid::Uuid::new_v4(), "x")).await;
    assert!(matches!(result, Err(StorageError::UnknownMeetup)), "{result:?}");
}

async fn purging_an_account_removes_the_meetups_it_hosts_and_leaves_its_messages_elsewhere_without_a_sender(
    db: TestDb,
) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let hosted_by_ana = meetup(storage, &ana, None, Duration::days(1)).await;
    let joined_by_ana = meetup(storage, &host, None, Duration::days(1)).await;
    storage.join_meetup(joined_by_ana, &ana, Utc::now()).await.expect("join");
    storage.post_message(&text(joined_by_ana, &ana, uuid::Uuid::new_v4(), "곧 도착")).await.expect("post");
    storage.soft_delete_user(ana.id).await.expect("delete account");
    let purged = storage.purge_deleted_users(Utc::now() + Duration::seconds(1)).await.expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(storage.room_access(hosted_by_ana, host.id).await.expect("access"), None, "her meetup is gone");
    let left = storage.messages_after(joined_by_ana, 0, 50).await.expect("read");
    assert_eq!(left.iter().map(|m| (m.seq, m.sender.is_none())).collect::<Vec<_>>(), vec![(1, true), (2, true)]);
    assert!(!storage.room_access(joined_by_ana, ana.id).await.expect("access").expect("exists").member);
}

async fn a_batch_of_messages_is_stored_in_order_in_one_go_and_its_resends_once(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let batch = [text(id, &host, first, "하나"), text(id, &host, second, "둘"), text(id, &host, first, "하나")];
    let posted = storage.post_messages(&batch).await.expect("post a batch");
    let posted: Vec<(&ChatMessage, bool)> = posted.iter().map(acked).collect();
    let summary: Vec<(i64, bool, &str)> = posted.iter().map(|(m, stored)| (m.seq, *stored, m.text.as_str())).collect();
    assert_eq!(summary, vec![(1, true, "하나"), (2, true, "둘"), (1, false, "하나")]);
    let third = uuid::Uuid::new_v4();
    let mixed = [text(id, &host, second, "둘"), text(id, &host, third, "셋"), text(id, &host, second, "둘")];
    let again = storage.post_messages(&mixed).await.expect("a batch with a resend");
    let again: Vec<(&ChatMessage, bool)> = again.iter().map(acked).collect();
    let summary: Vec<(i64, bool)> = again.iter().map(|(m, stored)| (m.seq, *stored)).collect();
    assert_eq!(summary, vec![(2, false), (3, true), (2, false)]);
    let read = storage.messages_after(id, 0, 50).await.expect("read");
    assert_eq!(read.len(), 3);
    // What a batch reports is what is stored, ids included.
    assert_eq!((posted[0].0, posted[1].0, again[1].0), (&read[0], &read[1], &read[2]));
    assert_eq!(again[0].0, &read[1]);
    let gone = storage.post_messages(&[text(9_999, &host, uuid::Uuid::new_v4(), "x")]).await;
    assert!(matches!(gone, Err(StorageError::UnknownMeetup)), "{gone:?}");
}

/// The relay's writer commits the batches of many rooms in one transaction: each room must still
/// get its own gapless numbers, its resends once, and a deleted meetup's error alone.
async fn batches_of_many_rooms_at_once_keep_each_rooms_sequence_and_outcome(db: TestDb) {
    let storage = db.shared();
    let host = person(&*storage, "host").await;
    let mut rooms = Vec::new();
    for _ in 0..6 {
        rooms.push(meetup(&*storage, &host, None, Duration::days(1)).await);
    }
    let mut tasks = Vec::new();
    for (r, &room) in rooms.iter().enumerate() {
        for writer in 0..3 {
            let (storage, host) = (Arc::clone(&storage), host.clone());
            tasks.push(tokio::spawn(async move {
                for n in 0..8 {
                    let again = uuid::Uuid::new_v4();
                    let bodies = [format!("{r}-{writer}-{n}-a"), format!("{r}-{writer}-{n}-b")];
                    let batch = [
                        text(room, &host, again, &bodies[0]),
                        text(room, &host, uuid::Uuid::new_v4(), &bodies[1]),
                        text(room, &host, again, &bodies[0]),
                    ];
                    let posted = storage.post_messages(&batch).await.expect("post a batch");
                    let posted: Vec<(&ChatMessage, bool)> = posted.iter().map(acked).collect();
                    let summary: Vec<(i64, bool, &str)> =
                        posted.iter().map(|(m, stored)| (m.meetup_id, *stored, m.text.as_str())).collect();
                    assert_eq!(
                        summary,
                        vec![(room, true, &*bodies[0]), (room, true, &*bodies[1]), (room, false, &*bodies[0])]
                    );
                    assert_eq!(posted[1].0.seq, posted[0].0.seq + 1);
                    assert_eq!(posted[2].0, posted[0].0, "a resend is acked as the first");
                    assert!(posted.iter().all(|(m, _)| m.id > 0), "each acked with its stored id");
                }
            }));
        }
    }
    let gone = {
        let (storage, host) = (Arc::clone(&storage), host.clone());
        tokio::spawn(async move { storage.post_messages(&[text(9_999, &host, uuid::Uuid::new_v4(), "x")]).await })
    };
    for task in tasks {
        task.await.expect("writer");
    }
    assert!(matches!(gone.await.expect("task"), Err(StorageError::UnknownMeetup)));
    for room in rooms {
        let messages = storage.messages_after(room, 0, 1000).await.expect("read");
        assert_eq!(messages.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=48).collect::<Vec<i64>>());
        assert_eq!(messages.iter().map(|m| m.text.as_str()).collect::<BTreeSet<_>>().len(), 48, "each once");
        assert!(messages.iter().all(|m| m.meetup_id == room && m.id > 0));
    }
}

/// The relay checked membership when a send arrived; storage checks it again as it stores the
/// message, so one from a member who left meanwhile (through another instance, say) never follows
/// their leave message, and none is stored once the meetup has ended.
async fn a_batch_stores_members_messages_only_and_nothing_after_the_end(db: TestDb) {
    let storage = db.storage();
    let (host, ana, bob) = (person(storage, "host").await, person(storage, "ana").await, person(storage, "bob").await);
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    storage.join_meetup(id, &ana, Utc::now()).await.expect("join");
    let (hers, his, again) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let batch = [text(id, &ana, hers, "안녕"), text(id, &bob, his, "끼어들기"), text(id, &host, again, "반가워요")];
    let posted = storage.post_messages(&batch).await.expect("post a batch");
    assert!(matches!(&posted[0], Posted::Stored(m) if m.seq == 2), "{posted:?}");
    assert_eq!(posted[1], Posted::NotMember, "who never joined");
    assert!(matches!(&posted[2], Posted::Stored(m) if m.seq == 3), "numbers skip no refused message");

    assert!(matches!(storage.leave_meetup(id, &ana).await.expect("leave"), Leave::Left(m) if m.seq == 4));
    let batch = [text(id, &ana, hers, "안녕"), text(id, &ana, uuid::Uuid::new_v4(), "잘 있어요")];
    let posted = storage.post_messages(&batch).await.expect("post after the leave");
    assert!(matches!(&posted[0], Posted::Resent(m) if m.seq == 2), "a resend of what she said before: {posted:?}");
    assert_eq!(posted[1], Posted::NotMember, "who left");
    let stored = storage.messages_after(id, 0, 50).await.expect("read");
    assert_eq!(stored.last().map(|m| (m.seq, m.kind)), Some((4, MessageKind::Leave)), "nothing after her leave");

    let ended = meetup(storage, &host, None, Duration::seconds(-1)).await;
    let posted = storage.post_messages(&[text(ended, &host, uuid::Uuid::new_v4(), "늦었다")]).await.expect("post");
    assert_eq!(posted, vec![Posted::Ended]);
    assert!(storage.messages_after(ended, 0, 50).await.expect("read").is_empty());
}

/// A busy relay hands storage thousands of messages at once (its writer takes up to a few thousand
/// per transaction): every room gets its messages in the order given, text of any kind is stored
/// as typed, and the same batch again is all resends.
async fn a_batch_of_thousands_of_messages_in_many_rooms_is_stored_whole_and_resent_whole(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let mut members = vec![host.clone()];
    for n in 0..4 {
        members.push(person(storage, &format!("member{n}")).await);
    }
    let mut rooms = Vec::new();
    for _ in 0..5 {
        let room = meetup(storage, &host, None, Duration::days(1)).await;
        for member in &members[1..] {
            storage.join_meetup(room, member, Utc::now()).await.expect("join");
        }
        rooms.push(room);
    }
    // After the joins each room's next number is 5 (four join messages).
    let bodies: Vec<String> = (0..2_500).map(|n| format!("{n} '); DROP TABLE chat_messages; -- 밍기적 ?")).collect();
    let ids: Vec<uuid::Uuid> = (0..bodies.len()).map(|_| uuid::Uuid::new_v4()).collect();
    let batch: Vec<NewMessage<'_>> = bodies
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(n, (body, &id))| text(rooms[n % rooms.len()], &members[n / 7 % members.len()], id, body))
        .collect();
    let posted = storage.post_messages(&batch).await.expect("post a big batch");
    assert_eq!(posted.len(), batch.len());
    for (n, outcome) in posted.iter().enumerate() {
        let (message, stored) = acked(outcome);
        assert!(stored, "message {n} stored now");
        assert_eq!(
            (message.meetup_id, message.seq, &message.text),
            (batch[n].meetup_id, 5 + (n / 5) as i64, &bodies[n])
        );
        assert_eq!(message.sender.as_ref().map(|s| s.id), Some(batch[n].sender.id));
    }
    let again = storage.post_messages(&batch).await.expect("the same batch again");
    assert!(again.iter().zip(&posted).all(|(again, first)| matches!(
        (again, first), (Posted::Resent(a), Posted::Stored(f)) if a == f
    )));
    for (r, &room) in rooms.iter().enumerate() {
        let read = storage.messages_after(room, 4, 1_000).await.expect("read");
        let texts: Vec<&str> = read.iter().map(|m| m.text.as_str()).collect();
        let sent: Vec<&str> = bodies.iter().skip(r).step_by(rooms.len()).map(String::as_str).collect();
        assert_eq!(texts, sent, "room {r} holds its messages once, in order");
    }
}

async fn the_notice_is_set_replaced_and_removed(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let id = meetup(storage, &host, None, Duration::days(1)).await;
    assert_eq!(storage.notice(id).await.expect("read"), None);
    let set = storage.set_notice(id, Some(("7시 정각 출발", Utc::now()))).await.expect("set").expect("a notice");
    assert_eq!(storage.notice(id).await.expect("read"), Some(set.clone()));
    // Setting the same notice again is not a miss.
    let again = storage.set_notice(id, Some(("7시 정각 출발", set.at))).await.expect("set again");
    assert_eq!(again, Some(set));
    let replaced = storage.set_notice(id, Some(("7시 30분으로 변경", Utc::now()))).await.expect("replace");
    assert_eq!(storage.notice(id).await.expect("read"), replaced);
    assert_eq!(storage.set_notice(id, None).await.expect("remove"), None);
    assert_eq!(storage.notice(id).await.expect("read"), None);
    assert_eq!(storage.set_notice(id, None).await.expect("removing nothing is fine"), None);
    assert!(matches!(storage.notice(9_999).await, Err(StorageError::UnknownMeetup)));
    assert!(matches!(storage.set_notice(9_999, Some(("x", Utc::now()))).await, Err(StorageError::UnknownMeetup)));
    assert!(matches!(storage.set_notice(9_999, None).await, Err(StorageError::UnknownMeetup)));
}
