//! The client's online-only social calls against the real server on 127.0.0.1: "my meetups" and "my
//! comments" (the meetups still listed once the server is gone), editing and deleting a comment,
//! every page of a meetup's comments, older chat history, the room's notice, place search through a
//! fake geocoder, image upload, and the profile and account calls of `Cloud`; the rooms a device
//! follows, and the offline lists forgetting what a fresh list showed gone. Both backends.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod fake_geocoder;
mod social_online;

use std::time::Duration;

use common::TestDb;
use mingizuk_client::social::{HISTORY_PAGE, Role, Sort};
use mingizuk_client::sync::ProfileChange;
use mingizuk_client::{ClientError, LocalData};
use mingizuk_server::chat::Limits as ChatLimits;
use social_online::{PNG, WAIT, caught_up, deliver, device, ids, meetup, stored, world, world_with};

conformance!(
    my_meetups_and_comments_list_what_the_user_did_and_read_offline_once_the_server_is_gone,
    a_comment_is_edited_and_deleted_online,
    older_messages_come_a_page_at_a_time_oldest_first,
    the_host_sets_and_removes_the_notice,
    places_are_searched_and_an_image_is_uploaded_through_the_server,
    the_profile_changes_and_a_deleted_account_signs_the_device_out,
    rooms_refused_for_a_moment_or_before_the_join_reached_the_server_are_subscribed_again,
    a_queued_join_leave_or_deletion_already_in_effect_is_done_not_refused,
    a_write_that_cannot_reach_the_server_is_not_counted_as_maybe_applied,
    rooms_left_or_deleted_are_no_longer_followed_and_a_confirmed_join_follows_again,
    the_offline_lists_forget_meetups_and_comments_a_fresh_list_showed_gone,
);

async fn my_meetups_and_comments_list_what_the_user_did_and_read_offline_once_the_server_is_gone(db: TestDb) {
    let mut world = world(&db).await;
    let host = device(&world.url, "host").await;
    let member = device(&world.url, "member").await;
    let first = meetup(&world, host.user.id).await;
    let second = meetup(&world, host.user.id).await;
    member.social.join(first).await.unwrap();
    member.social.like(second, true).await.unwrap();
    member.social.comment(second, "저도 갈래요").await.unwrap();
    deliver(&member).await;

    assert_eq!(ids(&host.social.my_meetups(Role::Host).await.unwrap()), [second, first], "newest first");
    assert_eq!(ids(&member.social.my_meetups(Role::Host).await.unwrap()), Vec::<i64>::new());
    assert_eq!(ids(&member.social.my_meetups(Role::Member).await.unwrap()), [first]);
    assert_eq!(ids(&member.social.my_meetups(Role::Liked).await.unwrap()), [second]);
    let comments = member.social.my_comments().await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["text"], "저도 갈래요");
    assert_eq!(comments[0]["meetup_id"], second);

    world.go_away().await;
    let joined = member.social.my_meetups(Role::Member).await.unwrap();
    assert_eq!(ids(&joined), [first], "the joined meetups read from the cache offline");
    assert_eq!(joined[0]["title"], "한강 러닝");
    assert!(matches!(member.social.my_comments().await, Err(ClientError::Network(_))));
}

async fn a_comment_is_edited_and_deleted_online(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let meetup = meetup(&world, host.user.id).await;
    host.social.comment(meetup, "처음 쓴 글").await.unwrap();
    deliver(&host).await;
    let comment = host.social.comments(meetup).await.unwrap()[0]["id"].as_i64().unwrap();

    let edited = host.social.edit_comment(comment, "고쳐 쓴 글").await.unwrap();
    assert_eq!(edited["text"], "고쳐 쓴 글");
    assert_eq!(host.social.comments(meetup).await.unwrap()[0]["text"], "고쳐 쓴 글");
    let too_long = host.social.edit_comment(comment, &"가".repeat(51)).await.unwrap_err();
    assert_eq!(too_long.code(), "invalid_input");

    let stranger = device(&world.url, "stranger").await;
    let refused = stranger.social.delete_comment(comment).await.unwrap_err();
    assert!(matches!(refused, ClientError::Server { status: 403 | 404, .. }), "{refused:?}");

    host.social.delete_comment(comment).await.unwrap();
    assert!(host.social.comments(meetup).await.unwrap().is_empty());

    // More than one page of comments (20 a page): every one of them, oldest first.
    for n in 1..=45 {
        world.state.storage.add_comment(meetup, host.user.id, &format!("댓글 {n}")).await.unwrap();
    }
    let texts: Vec<String> =
        host.social.comments(meetup).await.unwrap().iter().map(|c| c["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, (1..=45).map(|n| format!("댓글 {n}")).collect::<Vec<_>>());
}

async fn older_messages_come_a_page_at_a_time_oldest_first(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let meetup = meetup(&world, host.user.id).await;
    for n in 1..=60 {
        stored(&world, meetup, &host.user, &format!("메시지 {n}")).await;
    }
    let seqs = |page: &[mingizuk_client::social::ChatMessage]| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    let newest = host.social.older_messages(meetup, i64::MAX).await.unwrap();
    assert_eq!(newest.len(), HISTORY_PAGE as usize);
    assert!(seqs(&newest).windows(2).all(|w| w[0] < w[1]), "oldest first");
    let last = newest.last().unwrap();
    assert_eq!(last.text, "메시지 60");
    let older = host.social.older_messages(meetup, newest[0].seq).await.unwrap();
    assert_eq!(older.last().unwrap().seq, newest[0].seq - 1, "the page just before");
    assert!(older.iter().any(|m| m.text == "메시지 1"));
    let kept = host.social.messages(meetup).await.unwrap();
    assert!(kept.iter().any(|m| m.text == "메시지 1") && kept.iter().any(|m| m.text == "메시지 60"), "cached");
}

async fn the_host_sets_and_removes_the_notice(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let member = device(&world.url, "member").await;
    let meetup = meetup(&world, host.user.id).await;

    host.social.set_notice(meetup, Some("7시에 출발해요")).await.unwrap();
    assert_eq!(host.social.notice(meetup).await.unwrap().unwrap()["text"], "7시에 출발해요");
    assert_eq!(world.state.storage.notice(meetup).await.unwrap().unwrap().text, "7시에 출발해요");
    let refused = member.social.set_notice(meetup, Some("제가 공지할게요")).await.unwrap_err();
    assert!(matches!(refused, ClientError::Server { status: 403, .. }), "{refused:?}");

    host.social.set_notice(meetup, None).await.unwrap();
    assert_eq!(host.social.notice(meetup).await.unwrap(), None);
    assert!(world.state.storage.notice(meetup).await.unwrap().is_none());
}

async fn places_are_searched_and_an_image_is_uploaded_through_the_server(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let places = host.social.search_places("여의나루").await.unwrap();
    assert!(!places.is_empty(), "the fake geocoder answers");
    assert!(places.iter().all(|p| !p.name.is_empty() && !p.address.is_empty()));
    let empty = host.social.search_places("").await.unwrap_err();
    assert!(matches!(empty, ClientError::Server { status: 400, .. }), "{empty:?}");

    let uploaded = host.social.upload_image(PNG, "image/png").await.unwrap();
    assert!(uploaded.url.ends_with(&format!("/v1/media/{}", uploaded.id)), "{uploaded:?}");
    let wrong = host.social.upload_image(b"not an image", "image/png").await.unwrap_err();
    assert!(matches!(wrong, ClientError::Server { status: 400 | 415 | 422, .. }), "{wrong:?}");
}

async fn the_profile_changes_and_a_deleted_account_signs_the_device_out(db: TestDb) {
    let world = world(&db).await;
    let device = device(&world.url, "before").await;
    let nickname = ProfileChange { nickname: Some("after".into()), ..ProfileChange::default() };
    let user = device.cloud.edit_profile(&nickname).await.unwrap();
    assert_eq!(user.nickname, "after");
    assert_eq!(device.cloud.user().await.unwrap().nickname, "after", "the session keeps the new profile");

    let wrong = ProfileChange {
        password: Some("another long password".into()),
        current_password: Some("not the password".into()),
        ..ProfileChange::default()
    };
    assert_eq!(device.cloud.edit_profile(&wrong).await.unwrap_err().code(), "wrong_current_password");
    let right = ProfileChange {
        password: Some("another long password".into()),
        current_password: Some("tiny daily squats".into()),
        ..ProfileChange::default()
    };
    device.cloud.edit_profile(&right).await.unwrap();

    device.cloud.delete_account(LocalData::Keep).await.unwrap();
    assert_eq!(device.cloud.user().await, None, "signed out");
    let again = device.cloud.sign_in("before@example.com", "tiny daily squats").await.unwrap_err();
    assert_eq!(again.code(), "invalid_credentials", "the old password no longer signs in");
}

async fn rooms_refused_for_a_moment_or_before_the_join_reached_the_server_are_subscribed_again(db: TestDb) {
    // Two subscribes at once, then one a second: four rooms opened together meet the limit.
    let world = world_with(&db, ChatLimits { messages_per_second: 1.0, burst: 2.0, ..ChatLimits::default() }).await;
    let mina = device(&world.url, "mina").await;
    let host = device(&world.url, "host").await;
    let mut hosted = Vec::new();
    for n in 0..4 {
        let room = meetup(&world, mina.user.id).await;
        stored(&world, room, &mina.user, &format!("방 {n}")).await;
        hosted.push(room);
    }
    mina.social.start().await;
    for room in &hosted {
        mina.social.open_room(*room);
    }
    assert!(caught_up(&mina, &hosted).await, "every room was subscribed in the end");

    // A room opened before the join reached the server is refused (not a member yet); once the
    // join is confirmed it is subscribed again, without a new connection.
    let other = meetup(&world, host.user.id).await;
    stored(&world, other, &host.user, "어서 와요").await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // the rate limit's burst is back
    mina.social.open_room(other);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    mina.social.join(other).await.unwrap();
    assert!(caught_up(&mina, &[other]).await, "the joined room was subscribed");
    mina.social.stop().await;
}

async fn a_queued_join_leave_or_deletion_already_in_effect_is_done_not_refused(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let ana = device(&world.url, "ana").await;
    let joined = meetup(&world, host.user.id).await;
    let never = meetup(&world, host.user.id).await;
    let gone = meetup(&world, host.user.id).await;
    world.state.storage.delete_meetup(gone, host.user.id).await.unwrap();
    host.social.delete_meetup(gone).await.unwrap();
    deliver(&host).await;
    assert!(host.social.outbox().await.unwrap().is_empty(), "a meetup already gone is deleted");
    // Ana joined on another device (here, directly); the join queued on this one is done all the
    // same, as is leaving a meetup she is not in.
    world.state.chat.rooms.join(joined, ana.user.clone()).await.unwrap();
    ana.social.join(joined).await.unwrap();
    ana.social.leave(never).await.unwrap();
    deliver(&ana).await;
    assert!(ana.social.outbox().await.unwrap().is_empty(), "neither was refused");
    let access = world.state.storage.room_access(joined, ana.user.id).await.unwrap().unwrap();
    assert!(access.member, "still a member");
}

async fn a_write_that_cannot_reach_the_server_is_not_counted_as_maybe_applied(db: TestDb) {
    let mut world = world(&db).await;
    let host = device(&world.url, "host").await;
    let meetup = meetup(&world, host.user.id).await;
    world.go_away().await;
    host.social.comment(meetup, "비행기에서 씀").await.unwrap();
    host.social.start().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while host.social.outbox().await.unwrap()[0].attempts < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not try");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.social.stop().await;
    // Never sent: however long it waits, it is sent when the server is back, not set aside.
    assert_eq!(host.social.outbox().await.unwrap()[0].sent_at_ms, None);
}

/// Waits until the device follows exactly `rooms`.
async fn following(device: &social_online::Device, rooms: &[i64]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while device.social.followed_rooms() != rooms {
        assert!(tokio::time::Instant::now() < deadline, "follows {:?}, not {rooms:?}", device.social.followed_rooms());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rooms_left_or_deleted_are_no_longer_followed_and_a_confirmed_join_follows_again(db: TestDb) {
    let world = world(&db).await;
    let mina = device(&world.url, "mina").await;
    let host = device(&world.url, "host").await;
    let (left, deleted) = (meetup(&world, host.user.id).await, meetup(&world, host.user.id).await);
    for room in [left, deleted] {
        world.state.chat.rooms.join(room, mina.user.clone()).await.unwrap();
        mina.social.open_room(room);
    }
    mina.social.start().await;
    assert!(caught_up(&mina, &[left, deleted]).await, "both rooms were subscribed");
    assert_eq!(mina.social.followed_rooms(), [left, deleted]);

    // Mina leaves one; the host deletes the other: neither is subscribed at the next connection.
    mina.social.leave(left).await.unwrap();
    mingizuk_server::meetups::delete(&world.state, deleted, host.user.id).await.unwrap();
    following(&mina, &[]).await;

    // Back in: the confirmed join follows the room again, and the host's next message arrives live.
    mina.social.join(left).await.unwrap();
    following(&mina, &[left]).await;
    host.social.send_message(left, "다시 왔네요").await.unwrap();
    host.social.start().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !mina.social.messages(left).await.unwrap().iter().any(|m| m.text == "다시 왔네요") {
        assert!(tokio::time::Instant::now() < deadline, "the host's message did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.social.stop().await;
    mina.social.stop().await;
}

/// Lists a device's cached meetups, newest first: the page `meetups` answers without a server.
#[tokio::test]
async fn a_server_failing_for_a_while_shows_the_cached_meetups_as_offline_rather_than_an_error() {
    common::run(common::Backend::Sqlite, |db| async move {
        let world = world(&db).await;
        let ana = device(&world.url, "ana").await;
        let id = meetup(&world, ana.user.id).await;
        assert_eq!(ids(&ana.social.meetups(Sort::New, None, None).await.unwrap().items), [id]);
        assert!(ana.social.meetup(id).await.unwrap().is_some());

        // The server is up but its database fails: every read answers 500.
        let database = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        sqlx::query("ALTER TABLE meetups RENAME TO meetups_away").execute(&database).await.unwrap();
        assert_eq!(offline_newest(&ana).await, [id]);
        let cached = ana.social.meetup(id).await.unwrap().expect("the cached meetup");
        assert_eq!(cached["id"], id);
        assert!(ana.social.comments(id).await.is_ok(), "comments read from the cache too");
        sqlx::query("ALTER TABLE meetups_away RENAME TO meetups").execute(&database).await.unwrap();
        assert!(!ana.social.meetups(Sort::New, None, None).await.unwrap().offline, "fresh again");
    })
    .await;
}

async fn offline_newest(device: &social_online::Device) -> Vec<i64> {
    let listing = device.social.meetups(Sort::New, None, None).await.unwrap();
    assert!(listing.offline);
    ids(&listing.items)
}

/// Both pages of the newest meetups, fresh from the server.
async fn newest_pages(device: &social_online::Device) -> Vec<i64> {
    let first = device.social.meetups(Sort::New, None, None).await.unwrap();
    let second = device.social.meetups(Sort::New, None, first.next_cursor.as_deref()).await.unwrap();
    assert_eq!(second.next_cursor, None);
    [ids(&first.items), ids(&second.items)].concat()
}

async fn the_offline_lists_forget_meetups_and_comments_a_fresh_list_showed_gone(db: TestDb) {
    let mut world = world(&db).await;
    let host = device(&world.url, "host").await;
    let (ana, bo) = (device(&world.url, "ana").await, device(&world.url, "bo").await);
    let mut newest = Vec::new();
    for _ in 0..25 {
        newest.insert(0, meetup(&world, host.user.id).await);
    }
    let commented = newest[0];
    for text in ["하나", "둘", "셋"] {
        world.state.storage.add_comment(commented, host.user.id, text).await.unwrap();
    }
    for device in [&ana, &bo] {
        assert_eq!(newest_pages(device).await, newest, "two pages of the newest");
        assert_eq!(device.social.comments(commented).await.unwrap().len(), 3);
    }

    // Deleted elsewhere: a meetup of each page, and a comment. Ana then reads only the first
    // page again, Bo both pages and the comments.
    let (on_first, on_second) = (newest[10], newest[22]);
    for gone in [on_first, on_second] {
        world.state.storage.delete_meetup(gone, host.user.id).await.unwrap();
    }
    let comment = bo.social.comments(commented).await.unwrap()[1]["id"].as_i64().unwrap();
    world.state.storage.delete_comment(comment, host.user.id).await.unwrap();
    let first = ana.social.meetups(Sort::New, None, None).await.unwrap();
    assert!(!ids(&first.items).contains(&on_first));
    let left: Vec<i64> = newest.iter().copied().filter(|id| ![on_first, on_second].contains(id)).collect();
    assert_eq!(newest_pages(&bo).await, left);
    assert_eq!(bo.social.comments(commented).await.unwrap().len(), 2);

    world.go_away().await;
    let ana_offline = offline_newest(&ana).await;
    let expected: Vec<i64> = newest.iter().copied().filter(|id| *id != on_first).collect();
    assert_eq!(ana_offline, expected, "what the fresh page covered is forgotten, nothing else");
    assert_eq!(offline_newest(&bo).await, left);
    let comments = bo.social.comments(commented).await.unwrap();
    let texts: Vec<&str> = comments.iter().filter_map(|c| c["text"].as_str()).collect();
    assert_eq!(texts, ["하나", "셋"]);
}
