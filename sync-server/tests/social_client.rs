//! The client's social side against the real server on 127.0.0.1, through a proxy that can take
//! the network away or swallow a reply: writes made offline (chat messages, a comment) wait in the
//! outbox and arrive exactly once, in order, even when the first delivery's answer is lost; the
//! cache answers offline; a refused write is kept with the server's reason; stopping does not wait
//! for a request the network leaves hanging, nor loses a token refresh under way. Both backends.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod lossy_proxy;

use lossy_proxy::Proxy;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use mingizuk_client::social::{Social, SocialEvent, Sort};
use mingizuk_client::{Cloud, Engine, LocalData, ManualClock};
use mingizuk_server::storage::chat::Sender;
use mingizuk_server::storage::{Storage, UserId};
use mingizuk_server::{AppState, Config};
use serde_json::{Value, json};
use tokio::net::TcpListener;

conformance!(
    messages_and_a_comment_written_offline_arrive_once_each_even_when_a_reply_is_lost,
    a_comment_whose_reply_was_lost_is_sent_again_and_stored_once,
    the_cache_shows_meetups_and_messages_while_offline,
    a_message_to_a_room_the_user_did_not_join_is_refused_with_the_reason,
    a_comment_queued_by_one_account_waits_for_it_while_another_signs_in_on_the_device,
    a_comment_whose_answer_was_lost_a_day_ago_is_set_aside_rather_than_posted_twice,
    stopping_does_not_wait_for_a_write_the_network_leaves_hanging,
    a_token_refresh_whose_caller_gave_up_still_keeps_the_new_tokens,
);

const WAIT: Duration = Duration::from_secs(30);

struct World {
    server: std::net::SocketAddr,
    state: AppState,
    proxy: Proxy,
    _dir: tempfile::TempDir,
}

async fn world(db: &TestDb) -> World {
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), "social-client-test-secret-of-32-bytes".to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).unwrap();
    let state = AppState::new(config, db.shared());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move {
        let _ = mingizuk_server::server::serve(listener, serving, std::future::pending()).await;
    });
    let proxy = Proxy::start(server).await;
    World { server, state, proxy, _dir: dir }
}

/// A device signed in through the proxy, with its social side started.
struct Device {
    cloud: Cloud,
    social: Social,
    user: Sender,
    dir: tempfile::TempDir,
}

/// A device signed in through `url` (the proxy).
async fn device(url: String, name: String) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now().timestamp_millis(), 9 * 60));
    let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock).await.unwrap());
    let cloud = Cloud::new(engine, &url, dir.path()).unwrap();
    let info = cloud.sign_up(&format!("{name}@example.com"), "tiny daily squats", &name).await.unwrap();
    cloud.pause().await;
    let social = Social::open(cloud.credentials(), dir.path()).await.unwrap();
    social.start().await;
    let id = UserId(info.id.parse().unwrap());
    Device { cloud, social, user: Sender { id, nickname: name.clone() }, dir }
}

/// A meetup hosted by `host`, ending in a day, made on the server directly.
async fn meetup(storage: Arc<dyn Storage>, host: UserId) -> i64 {
    common::meetup(&*storage, host, None, chrono::Duration::hours(24)).await
}

/// The room's messages as the server stores them.
async fn stored_texts(storage: Arc<dyn Storage>, meetup: i64) -> Vec<String> {
    let messages = storage.messages_after(meetup, 0, 1000).await.unwrap();
    messages.into_iter().filter(|m| m.client_id.is_some()).map(|m| m.text).collect()
}

/// A meetup's comments as the server lists them, straight from the server.
async fn stored_comments(server: std::net::SocketAddr, meetup: i64, token: String) -> Vec<String> {
    let url = format!("http://{server}/v1/meetups/{meetup}/comments");
    let page: Value = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let items = page["items"].as_array().or(page.as_array()).cloned().unwrap_or_default();
    items.iter().map(|c| c["text"].as_str().unwrap_or("").to_owned()).collect()
}

/// Waits (up to `WAIT`) until `$check` (an expression that may `.await`) holds.
macro_rules! until {
    ($what:expr, $check:expr) => {{
        let deadline = tokio::time::Instant::now() + WAIT;
        while !$check {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {}", $what);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }};
}

async fn messages_and_a_comment_written_offline_arrive_once_each_even_when_a_reply_is_lost(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    host.social.open_room(meetup);
    until!("the device is online", *host.social.online().borrow());

    // Offline: three messages and a comment wait in the outbox.
    world.proxy.go_offline();
    until!("the device is offline", !*host.social.online().borrow());
    for text in ["첫 번째", "두 번째", "세 번째"] {
        host.social.send_message(meetup, text).await.unwrap();
    }
    host.social.comment(meetup, "좋아요!").await.unwrap();
    assert_eq!(host.social.outbox().await.unwrap().len(), 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        stored_texts(world.state.storage.clone(), meetup).await.is_empty(),
        "nothing reaches the server while offline"
    );

    // Back, but deaf: the first message is stored, its ack lost.
    world.proxy.go_deaf();
    until!("the first message is stored", !stored_texts(world.state.storage.clone(), meetup).await.is_empty());
    world.proxy.cut_all();
    world.proxy.go_online();

    let mut events = host.social.events();
    until!("the outbox is empty", host.social.outbox().await.unwrap().is_empty());
    assert_eq!(
        stored_texts(world.state.storage.clone(), meetup).await,
        ["첫 번째", "두 번째", "세 번째"],
        "each message once, in order"
    );
    let token = host.cloud.credentials().access_token(false).await.unwrap();
    assert_eq!(stored_comments(world.server, meetup, token).await, ["좋아요!"], "the comment once");
    until!(
        "the device shows its three messages",
        host.social.messages(meetup).await.unwrap().iter().filter(|m| m.kind == "text").count() == 3
    );
    let shown: Vec<String> =
        host.social.messages(meetup).await.unwrap().into_iter().filter(|m| m.kind == "text").map(|m| m.text).collect();
    assert_eq!(shown, ["첫 번째", "두 번째", "세 번째"], "the device shows each message once");
    while let Ok(event) = events.try_recv() {
        assert!(!matches!(event, SocialEvent::Refused { .. }), "nothing was refused: {event:?}");
    }
    host.social.stop().await;
}

async fn the_cache_shows_meetups_and_messages_while_offline(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    host.social.open_room(meetup);
    host.social.send_message(meetup, "내일 봐요").await.unwrap();
    until!("the message is shown", !host.social.messages(meetup).await.unwrap().is_empty());
    let online = host.social.meetups(Sort::New, None, None).await.unwrap();
    assert!(!online.offline);
    assert_eq!(online.items.len(), 1);

    world.proxy.go_offline();
    let offline = host.social.meetups(Sort::New, None, None).await.unwrap();
    assert!(offline.offline, "the list says it came from the cache");
    assert_eq!(offline.items, online.items);
    let regional = host.social.meetups(Sort::Likes, Some("서울특별시"), None).await.unwrap();
    assert_eq!(regional.items.len(), 1, "a 시·도 filter matches its regions offline too");
    let short = host.social.meetups(Sort::New, Some("서울"), None).await.unwrap();
    assert_eq!(short.items.len(), 1, "a short 시·도 name is understood offline as online");
    let elsewhere = host.social.meetups(Sort::New, Some("부산"), None).await.unwrap();
    assert!(elsewhere.items.is_empty(), "another 시·도 shows nothing");
    assert_eq!(host.social.meetup(meetup).await.unwrap().unwrap()["id"], json!(meetup));
    let texts: Vec<String> = host.social.messages(meetup).await.unwrap().into_iter().map(|m| m.text).collect();
    assert!(texts.contains(&"내일 봐요".to_owned()));
    host.social.stop().await;
}

async fn a_message_to_a_room_the_user_did_not_join_is_refused_with_the_reason(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let stranger = device(world.proxy.url(), "stranger".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    let mut events = stranger.social.events();
    let key = stranger.social.send_message(meetup, "몰래 들어왔어요").await.unwrap();
    let refused = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(SocialEvent::Refused { key: k, code, .. }) = events.recv().await
                && k == key
            {
                return code;
            }
        }
    })
    .await
    .expect("the refusal arrives");
    assert_eq!(refused, "not_member");
    let outbox = stranger.social.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "the refused write stays for the user to see");
    assert_eq!(outbox[0].refused.as_ref().map(|r| r.0.as_str()), Some("not_member"));
    assert!(stored_texts(world.state.storage.clone(), meetup).await.is_empty());
    stranger.social.dismiss(&key).await.unwrap();
    assert!(stranger.social.outbox().await.unwrap().is_empty());
    host.social.stop().await;
    stranger.social.stop().await;
}

async fn a_comment_whose_reply_was_lost_is_sent_again_and_stored_once(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    let token = host.cloud.credentials().access_token(false).await.unwrap();

    world.proxy.go_deaf();
    let key = host.social.comment(meetup, "같이 가요").await.unwrap();
    until!("the comment is stored", !stored_comments(world.server, meetup, token.clone()).await.is_empty());
    assert_eq!(host.social.outbox().await.unwrap().len(), 1, "no answer came: the comment is still queued");
    world.proxy.cut_all();
    world.proxy.go_online();

    until!("the outbox is empty", host.social.outbox().await.unwrap().is_empty());
    assert_eq!(stored_comments(world.server, meetup, token).await, ["같이 가요"], "stored once");
    let shown: Vec<Value> = host.social.comments(meetup).await.unwrap();
    assert_eq!(shown.len(), 1, "shown once: {shown:?}");
    assert!(host.social.outbox().await.unwrap().iter().all(|item| item.key != key));
    host.social.stop().await;
}

async fn a_comment_queued_by_one_account_waits_for_it_while_another_signs_in_on_the_device(db: TestDb) {
    let world = world(&db).await;
    let amy = device(world.proxy.url(), "amy".into()).await;
    let ben = device(world.proxy.url(), "ben".into()).await;
    ben.social.stop().await;
    let meetup = meetup(world.state.storage.clone(), amy.user.id).await;
    let token = amy.cloud.credentials().access_token(false).await.unwrap();

    world.proxy.go_offline();
    amy.social.comment(meetup, "에이미가 오프라인에서").await.unwrap();
    amy.social.stop().await;
    amy.cloud.sign_out(LocalData::Keep).await.unwrap();
    world.proxy.go_online();

    // Ben signs in on Amy's device and comments: his outbox is his own. (Asked about Amy's
    // records kept on the device, he takes them: the outbox is what this test is about.)
    let asked = amy.cloud.sign_in("ben@example.com", "tiny daily squats").await.unwrap_err();
    assert_eq!(asked.code(), "other_account_data");
    amy.cloud.attach_other_account_data().await.unwrap();
    amy.cloud.pause().await;
    let as_ben = Social::open(amy.cloud.credentials(), amy.dir.path()).await.unwrap();
    as_ben.start().await;
    assert!(as_ben.outbox().await.unwrap().is_empty(), "Amy's queued comment is not Ben's to send");
    as_ben.comment(meetup, "벤이 로그인해서").await.unwrap();
    until!("Ben's comment is stored", !stored_comments(world.server, meetup, token.clone()).await.is_empty());
    as_ben.stop().await;
    assert_eq!(
        stored_comments(world.server, meetup, token.clone()).await,
        ["벤이 로그인해서"],
        "Amy's comment did not go with Ben's session"
    );

    // Amy signs in again: her comment leaves, as hers.
    amy.cloud.sign_out(LocalData::Keep).await.unwrap();
    assert_eq!(
        amy.cloud.sign_in("amy@example.com", "tiny daily squats").await.unwrap_err().code(),
        "other_account_data"
    );
    amy.cloud.attach_other_account_data().await.unwrap();
    amy.cloud.pause().await;
    let as_amy = Social::open(amy.cloud.credentials(), amy.dir.path()).await.unwrap();
    as_amy.start().await;
    until!("Amy's outbox is empty", as_amy.outbox().await.unwrap().is_empty());
    let comments: Vec<Value> = as_amy.comments(meetup).await.unwrap();
    let by: Vec<(String, String)> = comments
        .iter()
        .map(|c| {
            (c["text"].as_str().unwrap_or("").to_owned(), c["author"]["nickname"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert!(by.contains(&("에이미가 오프라인에서".to_owned(), "amy".to_owned())), "Amy's comment is hers: {by:?}");
    assert!(by.contains(&("벤이 로그인해서".to_owned(), "ben".to_owned())), "{by:?}");
    as_amy.stop().await;
}

async fn a_comment_whose_answer_was_lost_a_day_ago_is_set_aside_rather_than_posted_twice(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    let token = host.cloud.credentials().access_token(false).await.unwrap();
    world.proxy.go_deaf();
    host.social.comment(meetup, "같이 가요").await.unwrap();
    until!("the comment is stored", !stored_comments(world.server, meetup, token.clone()).await.is_empty());
    world.proxy.go_offline();
    until!("the lost answer is counted", host.social.outbox().await.unwrap()[0].attempts > 0);
    host.social.stop().await;
    assert!(host.social.outbox().await.unwrap()[0].sent_at_ms.is_some(), "it may have been applied");

    // The device comes back a day later: the server has forgotten the comment's key.
    world.state.storage.purge_kept_responses(Utc::now()).await.unwrap();
    let cache = Social::cache_path(host.dir.path(), &host.cloud.user().await.unwrap().id);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", cache.display())).await.unwrap();
    sqlx::query("UPDATE outbox SET sent_at = sent_at - 86400000").execute(&pool).await.unwrap();
    pool.close().await;
    world.proxy.go_online();
    host.social.start().await;
    until!("the comment is set aside", host.social.outbox().await.unwrap()[0].refused.is_some());
    assert_eq!(host.social.outbox().await.unwrap()[0].refused.as_ref().unwrap().0, "unconfirmed");
    assert_eq!(stored_comments(world.server, meetup, token).await, ["같이 가요"], "stored once");
    host.social.stop().await;
}

async fn stopping_does_not_wait_for_a_write_the_network_leaves_hanging(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    let meetup = meetup(world.state.storage.clone(), host.user.id).await;
    let token = host.cloud.credentials().access_token(false).await.unwrap();
    world.proxy.go_deaf();
    host.social.comment(meetup, "터널 속에서").await.unwrap();
    until!("the comment has left", host.social.outbox().await.unwrap()[0].sent_at_ms.is_some());
    let stopped = tokio::time::timeout(Duration::from_secs(5), host.social.stop()).await;
    assert!(stopped.is_ok(), "stopping waited for a request with no answer");
    assert_eq!(host.social.outbox().await.unwrap().len(), 1, "the write stays queued");

    // The next start, with the network back, sends it again: stored once.
    world.proxy.cut_all();
    world.proxy.go_online();
    host.social.start().await;
    until!("the outbox is empty", host.social.outbox().await.unwrap().is_empty());
    assert_eq!(stored_comments(world.server, meetup, token).await, ["터널 속에서"]);
}

async fn a_token_refresh_whose_caller_gave_up_still_keeps_the_new_tokens(db: TestDb) {
    let world = world(&db).await;
    let host = device(world.proxy.url(), "host".into()).await;
    host.social.stop().await;
    let credentials = host.cloud.credentials();
    // The server rotates the refresh token at once, but its answer comes late: the caller (a task
    // being stopped) has given up by then.
    world.proxy.go_slow(Duration::from_millis(500));
    let gave_up = tokio::time::timeout(Duration::from_millis(100), credentials.access_token(true)).await;
    assert!(gave_up.is_err(), "the answer was to come late");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    world.proxy.go_online();
    // The rotated token was kept: the next refresh presents it, not the spent one.
    let again = credentials.access_token(true).await;
    assert!(again.is_ok(), "signed out: {again:?}");
    assert!(credentials.session().await.is_some());
}
