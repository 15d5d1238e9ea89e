//! The outbox past the server's idempotency window (a day), against a fake server on 127.0.0.1
//! that records what reaches it: a write that may have reached the server over a day ago without
//! its answer coming back is no longer sent — the server has forgotten its key and would run it
//! again, undoing whatever came after it (a newer edit, a leave, an unlike made on another device)
//! — but set aside as `unconfirmed` for the user to check. A meetup's deletion, which nothing
//! newer can undo, is still sent.
#![allow(clippy::unwrap_used)]

mod fake_server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mingizuk_client::social::{Liveness, OutboxItem, Social};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(15);
const A_DAY_AND_MORE_MS: i64 = 25 * 60 * 60 * 1000;

/// The outbox's rows as they stand once `done` holds, or after `PATIENCE`.
async fn outbox_when(social: &Social, done: impl Fn(&[OutboxItem]) -> bool) -> Vec<OutboxItem> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let outbox = social.outbox().await.unwrap();
        if done(&outbox) || tokio::time::Instant::now() > deadline {
            return outbox;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_edit_a_join_and_a_like_whose_answers_were_lost_a_day_ago_are_set_aside_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut requests) = fake_server::listen().await;
    // The server fails every request (so the deletion waits in the outbox) and notes each write.
    let reached = Arc::new(Mutex::new(Vec::new()));
    let noted = reached.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            if !request.target.starts_with("/v1/chat") {
                noted.lock().unwrap().push(format!("{} {}", request.method, request.target));
            }
            request.answer(503, r#"{"error":{"code":"unavailable","message":"restarting"}}"#).await;
        }
    });
    let social = fake_server::social(&url, dir.path(), Liveness::default()).await;
    let edit = social.edit_meetup(7, json!({ "title": "아침 스트레칭" })).await.unwrap();
    let join = social.join(8).await.unwrap();
    let like = social.like(9, true).await.unwrap();
    let delete = social.delete_meetup(10).await.unwrap();
    // Each left a day ago and its answer never came back.
    let cache = Social::cache_path(dir.path(), "u1");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", cache.display())).await.unwrap();
    let a_day_ago = chrono::Utc::now().timestamp_millis() - A_DAY_AND_MORE_MS;
    sqlx::query("UPDATE outbox SET sent_at = ?, attempts = 1").bind(a_day_ago).execute(&pool).await.unwrap();
    pool.close().await;

    social.start().await;
    let outbox = outbox_when(&social, |items| items.iter().any(|i| i.key == delete && i.attempts > 1)).await;
    let refusal = |key: &str| {
        let item = outbox.iter().find(|i| i.key == key).unwrap();
        item.refused.as_ref().map(|(code, _)| code.clone())
    };
    for (what, key) in [("the edit", &edit), ("the join", &join), ("the like", &like)] {
        assert_eq!(refusal(key).as_deref(), Some("unconfirmed"), "{what} is set aside");
    }
    assert_eq!(refusal(&delete), None, "the deletion waits to be sent again");
    let reached = reached.lock().unwrap().clone();
    assert!(
        !reached.is_empty() && reached.iter().all(|r| r == "DELETE /v1/meetups/10"),
        "only the deletion: {reached:?}"
    );
    social.close().await;
}
