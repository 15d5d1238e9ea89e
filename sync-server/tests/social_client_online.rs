//! The client's online-only social calls against the real server on 127.0.0.1: "my meetups" and "my
//! comments" (the meetups still listed once the server is gone), editing and deleting a comment,
//! every page of a meetup's comments, older chat history, the room's notice, place search through a
//! fake geocoder, image upload, and the profile and account calls of `Cloud`. Both backends.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod fake_geocoder;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use fake_geocoder::FakeGeocoder;
use mingizuk_client::social::{HISTORY_PAGE, Role, Social};
use mingizuk_client::sync::ProfileChange;
use mingizuk_client::{ClientError, Cloud, Engine, LocalData, ManualClock};
use mingizuk_server::chat::{Chat, Limits as ChatLimits};
use mingizuk_server::storage::UserId;
use mingizuk_server::storage::chat::{MessageKind, NewMessage, Sender};
use mingizuk_server::{AppState, Config};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

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
);

const WAIT: Duration = Duration::from_secs(30);
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

struct World {
    url: String,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    _geocoder: FakeGeocoder,
    _dir: tempfile::TempDir,
}

async fn world(db: &TestDb) -> World {
    world_with(db, ChatLimits::default()).await
}

async fn world_with(db: &TestDb, chat: ChatLimits) -> World {
    let dir = tempfile::tempdir().unwrap();
    let geocoder = FakeGeocoder::start().await;
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), "social-client-test-secret-of-32-bytes".to_owned()),
        ("MINGIZUK_GEOCODER_NOMINATIM_URL".to_owned(), geocoder.base_url.clone()),
        ("MINGIZUK_GEOCODER_TIMEOUT_MS".to_owned(), "2000".to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).unwrap();
    let mut state = AppState::new(config, db.shared());
    state.chat = Arc::new(Chat::new(db.shared(), chat, None).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = state.clone();
    tokio::spawn(async move {
        let _ = mingizuk_server::server::serve(listener, serving, async move {
            let _ = stopped.await;
        })
        .await;
    });
    World { url, state, stop: Some(stop), _geocoder: geocoder, _dir: dir }
}

impl World {
    /// Stops the server: from now on nothing answers.
    async fn go_away(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A signed-up device with its social side open (not started: these calls need no outbox).
struct Device {
    cloud: Cloud,
    social: Social,
    user: Sender,
    _dir: tempfile::TempDir,
}

async fn device(url: &str, name: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now().timestamp_millis(), 9 * 60));
    let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock).await.unwrap());
    let cloud = Cloud::new(engine, url, dir.path()).unwrap();
    let info = cloud.sign_up(&format!("{name}@example.com"), "tiny daily squats", name).await.unwrap();
    cloud.pause().await;
    let social = Social::open(cloud.credentials(), dir.path()).await.unwrap();
    let user = Sender { id: UserId(info.id.parse().unwrap()), nickname: name.to_owned() };
    Device { cloud, social, user, _dir: dir }
}

async fn meetup(world: &World, host: UserId) -> i64 {
    common::meetup(&*world.state.storage, host, None, chrono::Duration::hours(24)).await
}

/// Runs the outbox until it is empty.
async fn deliver(device: &Device) {
    device.social.start().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !device.social.outbox().await.unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    device.social.stop().await;
}

fn ids(meetups: &[serde_json::Value]) -> Vec<i64> {
    meetups.iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

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

/// Stores a message in `meetup` as `sender` wrote it, behind the live relay's back.
async fn stored(world: &World, meetup: i64, sender: &Sender, text: &str) {
    let new =
        NewMessage { meetup_id: meetup, kind: MessageKind::Text, sender, client_id: Some(uuid::Uuid::new_v4()), text };
    world.state.storage.post_message(&new).await.unwrap();
}

/// Waits until the device's cache holds a message of every room in `rooms`.
async fn caught_up(device: &Device, rooms: &[i64]) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut all = true;
        for room in rooms {
            all &= !device.social.messages(*room).await.unwrap().is_empty();
        }
        if all || tokio::time::Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
