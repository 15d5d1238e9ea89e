//! A room's first open against a fake server on 127.0.0.1 whose history route fails for a moment
//! (throttled, restarting) while the chat socket is up: the newest page is asked for again with
//! backoff and the room is followed after it (PRODUCT.md §7: newest 50, older on scroll), not
//! replayed whole from its first message (a request the server leaves hanging is given up after
//! a while and asked again); only a page that keeps failing, after a few tries, falls back to the
//! replay.
#![allow(clippy::unwrap_used)]

mod fake_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mingizuk_client::social::{Liveness, Social};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

const ROOM: i64 = 7;
/// The room's newest message: its newest page holds 51–100.
const TOP: i64 = 100;
const PATIENCE: Duration = Duration::from_secs(20);

/// How the history route fails before it answers.
#[derive(Clone, Copy)]
enum Failing {
    /// A 429, then 503s, for the first this many requests.
    Refuses(usize),
    /// The first request is never answered (nor closed): a server stuck on it.
    HangsOnce,
}

/// A server for room 7 whose history route fails as `failing` says, then answers the newest page.
/// Its chat socket answers each subscribe with the room's notice; the test hears the `since_seq`
/// of each. Counts the history requests.
async fn flaky_history(failing: Failing) -> (String, Arc<AtomicUsize>, mpsc::UnboundedReceiver<i64>) {
    let (url, mut requests) = fake_server::listen().await;
    let asked = Arc::new(AtomicUsize::new(0));
    let counted = asked.clone();
    let (subscribed, since) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            if request.target.starts_with("/v1/chat") {
                let subscribed = subscribed.clone();
                tokio::spawn(async move {
                    let mut socket = request.websocket().await;
                    while let Some(Ok(frame)) = socket.next().await {
                        let Frame::Text(text) = frame else { continue };
                        let frame: Value = serde_json::from_str(&text).unwrap();
                        if frame["type"] == "subscribe" {
                            let _ = subscribed.send(frame["since_seq"].as_i64().unwrap());
                            let notice = json!({ "type": "notice", "meetup_id": ROOM, "notice": null });
                            socket.send(Frame::Text(notice.to_string().into())).await.unwrap();
                        }
                    }
                });
            } else if request.target.starts_with(&format!("/v1/meetups/{ROOM}/messages")) {
                let failures = match failing {
                    Failing::Refuses(failures) => failures,
                    Failing::HangsOnce => 0,
                };
                match counted.fetch_add(1, Ordering::SeqCst) {
                    0 if matches!(failing, Failing::HangsOnce) => {
                        tokio::spawn(async move {
                            let _held = request;
                            std::future::pending::<()>().await;
                        });
                    }
                    0 if failures > 0 => {
                        request.answer(429, r#"{"error":{"code":"rate_limited","message":"slow down"}}"#).await;
                    }
                    n if n < failures => {
                        request.answer(503, r#"{"error":{"code":"unavailable","message":"restarting"}}"#).await;
                    }
                    _ => request.answer(200, &json!({ "messages": newest_page() }).to_string()).await,
                }
            } else {
                request.answer(404, r#"{"error":{"code":"not_found","message":"no"}}"#).await;
            }
        }
    });
    (url, asked, since)
}

/// Room 7's newest page as the server sends it, newest first.
fn newest_page() -> Vec<Value> {
    (TOP - 49..=TOP)
        .rev()
        .map(|seq| {
            json!({
                "meetup_id": ROOM, "seq": seq, "id": 70_000 + seq, "client_id": null, "kind": "text",
                "sender": { "id": "u2", "nickname": "기적" }, "text": format!("메시지 {seq}"),
                "at": "2026-11-02T00:00:00Z",
            })
        })
        .collect()
}

/// Opens room 7 on `social` once its chat socket is up; the `since_seq` of its subscribe.
async fn open_room(social: &Social, since: &mut mpsc::UnboundedReceiver<i64>) -> i64 {
    let mut online = social.online();
    social.start().await;
    tokio::time::timeout(PATIENCE, online.wait_for(|up| *up)).await.unwrap().unwrap();
    social.open_room(ROOM);
    tokio::time::timeout(PATIENCE, since.recv()).await.expect("the room is subscribed").unwrap()
}

#[tokio::test]
async fn a_first_page_that_fails_for_a_moment_is_asked_for_again_and_nothing_older_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked, mut since) = flaky_history(Failing::Refuses(2)).await;
    let social = fake_server::social(&url, dir.path(), Liveness::default()).await;
    assert_eq!(open_room(&social, &mut since).await, TOP, "followed after the newest page, not from seq 0");
    assert_eq!(asked.load(Ordering::SeqCst), 3, "asked for until it came");
    let cached: Vec<i64> = social.messages(ROOM).await.unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(cached, (TOP - 49..=TOP).collect::<Vec<_>>(), "the newest page is cached");
    social.close().await;
}

#[tokio::test]
async fn a_first_page_that_keeps_failing_falls_back_to_a_replay_after_a_few_tries() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked, mut since) = flaky_history(Failing::Refuses(usize::MAX)).await;
    let social = fake_server::social(&url, dir.path(), Liveness::default()).await;
    assert_eq!(open_room(&social, &mut since).await, 0, "replayed from its first message, never short of one");
    let tries = asked.load(Ordering::SeqCst);
    assert!((2..=5).contains(&tries), "a few tries, not one nor without end: {tries}");
    social.close().await;
}

#[tokio::test]
async fn a_first_page_the_server_leaves_hanging_is_given_up_and_asked_for_again() {
    let dir = tempfile::tempdir().unwrap();
    let (url, asked, mut since) = flaky_history(Failing::HangsOnce).await;
    // A try gets as long as a connection has to open: 1 s here, not the HTTP client's 30 s.
    let liveness = Liveness { connect_within: Duration::from_secs(1), ..Liveness::default() };
    let social = fake_server::social(&url, dir.path(), liveness).await;
    assert_eq!(open_room(&social, &mut since).await, TOP, "followed after the newest page, not from seq 0");
    assert_eq!(asked.load(Ordering::SeqCst), 2, "the hanging request was given up and asked again");
    social.close().await;
}
