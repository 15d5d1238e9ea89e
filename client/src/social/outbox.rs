//! The outbox worker: sends queued writes one at a time, oldest first, so a message written after
//! a join reaches the server after it. A write is removed only when the server confirmed it;
//! without an answer it is sent again with the same key after a backoff, and the server applies
//! it once. A refusal is kept with its reason and the worker goes on with the next write.

use std::time::Duration;

use serde_json::Value;

use super::http::{self, Outcome};
use super::{Ack, Inner, OutboxItem, SocialEvent, Write, chat};

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a chat message waits for its ack before it is sent again.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(inner: std::sync::Arc<Inner>) {
    let mut stop = inner.stop.subscribe();
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *stop.borrow() {
            return;
        }
        let item = match inner.cache.next_pending().await {
            Ok(Some(item)) => item,
            Ok(None) => {
                tokio::select! {
                    () = inner.wake.notified() => continue,
                    _ = stop.changed() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the outbox cannot be read");
                tokio::select! {
                    () = tokio::time::sleep(MAX_BACKOFF) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        let outcome = attempt(&inner, &item).await;
        let settled = match outcome {
            Outcome::Done(answer) => {
                backoff = FIRST_BACKOFF;
                confirmed(&inner, &item, &answer).await;
                inner.cache.done(&item.key).await.map(|()| SocialEvent::Sent { key: item.key.clone() })
            }
            Outcome::Refused(code, message) => {
                backoff = FIRST_BACKOFF;
                tracing::info!(key = %item.key, %code, "the server refused a queued write");
                inner.cache.refused(&item.key, &code, &message).await.map(|()| SocialEvent::Refused {
                    key: item.key.clone(),
                    code,
                    message,
                })
            }
            Outcome::Retry(reason) => {
                tracing::debug!(key = %item.key, %reason, "a queued write will be sent again");
                let _ = inner.cache.attempted(&item.key).await;
                let jitter = backoff.mul_f64(rand::random::<f64>() * 0.5);
                tokio::select! {
                    () = tokio::time::sleep(backoff + jitter) => {}
                    () = inner.wake.notified() => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        match settled {
            Ok(event) => {
                let _ = inner.events.send(event);
            }
            Err(e) => tracing::warn!(key = %item.key, error = %e, "the outbox could not record a result"),
        }
    }
}

async fn attempt(inner: &Inner, item: &OutboxItem) -> Outcome {
    match &item.write {
        Write::Http { method, path, body, .. } => http::write(inner, method, path, body.as_ref(), &item.key).await,
        Write::Message { meetup_id, text } => {
            // The sender follows the room, so its own message comes back like everyone's.
            chat::follow(inner, *meetup_id);
            let (tx, rx) = tokio::sync::oneshot::channel();
            inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).insert(item.key.clone(), tx);
            let frame = serde_json::json!({
                "type": "send", "meetup_id": meetup_id, "client_id": item.key, "text": text,
            });
            if !inner.link.send(frame) {
                inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).remove(&item.key);
                return Outcome::Retry("offline".into());
            }
            match tokio::time::timeout(ACK_TIMEOUT, rx).await {
                Ok(Ok(Ack::Stored)) => Outcome::Done(Value::Null),
                Ok(Ok(Ack::Refused(code, message))) => Outcome::Refused(code, message),
                Ok(Err(_)) => Outcome::Retry("the connection ended before the ack".into()),
                Err(_) => {
                    inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).remove(&item.key);
                    Outcome::Retry("no ack in time".into())
                }
            }
        }
    }
}

/// Folds a confirmed write's answer into the cache.
async fn confirmed(inner: &Inner, item: &OutboxItem, answer: &Value) {
    let Write::Http { kind, path, .. } = &item.write else { return };
    let meetup = path.split('/').nth(3).and_then(|id| id.parse::<i64>().ok());
    let result = match (kind.as_str(), meetup) {
        ("create_meetup" | "edit_meetup", _) => inner.cache.put_meetup(answer).await,
        ("delete_meetup", Some(id)) => inner.cache.forget_meetup(id).await,
        ("comment", Some(id)) => inner.cache.put_comments(id, std::slice::from_ref(answer)).await,
        (_, Some(id)) => match http::get(inner, &format!("/v1/meetups/{id}"), &[]).await {
            Ok(meetup) => inner.cache.put_meetup(&meetup).await,
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "the social cache could not be updated");
    }
}
