//! The live chat connection against a fake server on 127.0.0.1 on a slow link: one large message
//! whose bytes take longer than the silence limit to arrive (no ping gets past it meanwhile) is
//! received on the connection it came on, not cut and asked for again forever; a server that
//! then says nothing at all is still noticed.
#![allow(clippy::unwrap_used)]

mod fake_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mingizuk_client::social::{Liveness, SocialEvent};
use serde_json::json;

/// A silence limit a loaded test machine keeps to, a third of the time the message takes.
const SLOW_LINK: Liveness = Liveness { connect_within: Duration::from_secs(2), silent_for: Duration::from_secs(1) };
const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_large_message_slower_than_the_silence_limit_arrives_and_silence_after_it_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut requests) = fake_server::listen().await;
    let text = "밍".repeat(100_000);
    let message = json!({
        "type": "message", "meetup_id": 7, "seq": 1, "id": 70_001, "client_id": null, "kind": "text",
        "sender": { "id": "u2", "nickname": "기적" }, "text": text, "at": "2026-11-02T00:00:00Z",
    })
    .to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            if !request.target.starts_with("/v1/chat") {
                request.answer(404, r#"{"error":{"code":"not_found","message":"no"}}"#).await;
                continue;
            }
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            let message = message.clone();
            tokio::spawn(async move {
                let mut stream = request.upgrade().await;
                if first {
                    // 3 s for the whole message, a piece every 100 ms; then silence.
                    let every = Duration::from_millis(100);
                    fake_server::trickle_frame(&mut stream, 1, message.as_bytes(), 30, every).await;
                }
                std::future::pending::<()>().await;
                drop(stream);
            });
        }
    });
    let social = fake_server::social(&url, dir.path(), SLOW_LINK).await;
    let mut events = social.events();
    let mut online = social.online();
    social.start().await;
    let received = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(SocialEvent::Message { message }) = events.recv().await {
                return message;
            }
        }
    })
    .await
    .expect("the large message arrives");
    assert_eq!(received.text, text);
    assert_eq!(connections.load(Ordering::SeqCst), 1, "on the connection it came on");
    assert!(*online.borrow_and_update(), "which was kept all along");

    tokio::time::timeout(PATIENCE, online.wait_for(|up| !*up)).await.expect("the silence after it is noticed").unwrap();
    tokio::time::timeout(PATIENCE, async {
        while connections.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("and the connection made again");
    social.close().await;
}
