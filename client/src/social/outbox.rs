//! The outbox worker: sends queued writes one at a time, oldest first, so a message written after
//! a join reaches the server after it. A write is removed only when the server confirmed it;
//! without an answer it is sent again with the same key after a backoff, and the server applies
//! it once. A refusal is kept with its reason and the worker goes on with the next write. The
//! server forgets a key after a day: a write that creates something (a meetup, a comment) whose
//! answer was lost is not sent again past `CREATE_RETRY_WINDOW_MS` but set aside as `unconfirmed`;
//! a join, leave or deletion answered "already so" is done.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::http::{self, Outcome};
use super::kind::{COMMENT, CREATE_MEETUP, DELETE_MEETUP, EDIT_MEETUP, JOIN, LEAVE};
use super::{Ack, Inner, OutboxItem, SocialEvent, Write, chat};

/// How long after it may first have reached the server a write that creates something (a meetup,
/// a comment) is still sent again. The server keeps the answer to a key for a day from its first
/// run (`KEPT_RESPONSE_LIFETIME`); a retry after that would create a second one. Past this, the
/// write is set aside as `unconfirmed` for the user to check.
const CREATE_RETRY_WINDOW_MS: i64 = 20 * 60 * 60 * 1000;

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
        let outcome = tokio::select! {
            outcome = send(&inner, &item) => outcome,
            // Stopping does not wait for a network that hangs: the write stays queued, counted as
            // maybe delivered, and is sent again with its key after the next start.
            _ = stop.changed() => return,
        };
        let settled = match outcome {
            Outcome::Done(answer) => {
                backoff = FIRST_BACKOFF;
                confirmed(&inner, &item, &answer, &mut stop).await;
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
            Outcome::Retry { reason, .. } => {
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

/// One attempt at `item`, unless it is set aside as unconfirmed.
async fn send(inner: &Inner, item: &OutboxItem) -> Outcome {
    if let Some(refusal) = unconfirmed(item, chrono::Utc::now().timestamp_millis()) {
        return refusal;
    }
    // Marked before it leaves, so that an app killed mid-request counts it as maybe delivered;
    // taken back if it never left.
    let first = matches!(item.write, Write::Http { .. }) && item.sent_at_ms.is_none();
    if first && let Err(e) = inner.cache.sending(&item.key).await {
        // Not sent unmarked: its window could outlast the server's key.
        return Outcome::Retry { reason: format!("the outbox could not note a send: {e}"), delivered: false };
    }
    let outcome = attempt(inner, item).await;
    if first && matches!(outcome, Outcome::Retry { delivered: false, .. }) {
        let _ = inner.cache.not_sent(&item.key).await;
    }
    outcome
}

/// The refusal of a write that creates something and may have reached the server too long ago
/// to be sent again safely.
fn unconfirmed(item: &OutboxItem, now_ms: i64) -> Option<Outcome> {
    let Write::Http { kind, .. } = &item.write else { return None };
    let creates = matches!(kind.as_str(), CREATE_MEETUP | COMMENT);
    let sent = item.sent_at_ms?;
    (creates && now_ms - sent > CREATE_RETRY_WINDOW_MS).then(|| {
        let message = "the server did not confirm this in time; check whether it went through before doing it again";
        Outcome::Refused("unconfirmed".into(), message.into())
    })
}

async fn attempt(inner: &Inner, item: &OutboxItem) -> Outcome {
    match &item.write {
        Write::Http { kind, method, path, body } => {
            match http::write(inner, method, path, body.as_ref(), &item.key).await {
                // Already what the write asked for (done by an earlier attempt whose answer was
                // lost and whose key the server has forgotten, or on another device).
                Outcome::Refused(code, _)
                    if matches!(
                        (kind.as_str(), code.as_str()),
                        (JOIN, "already_member") | (LEAVE, "not_member") | (DELETE_MEETUP, "not_found")
                    ) =>
                {
                    Outcome::Done(Value::Null)
                }
                outcome => outcome,
            }
        }
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
                return Outcome::Retry { reason: "offline".into(), delivered: false };
            }
            match tokio::time::timeout(ACK_TIMEOUT, rx).await {
                Ok(Ok(Ack::Stored)) => Outcome::Done(Value::Null),
                Ok(Ok(Ack::Refused(code, message))) => Outcome::Refused(code, message),
                Ok(Err(_)) => Outcome::Retry { reason: "the connection ended before the ack".into(), delivered: true },
                Err(_) => {
                    inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).remove(&item.key);
                    Outcome::Retry { reason: "no ack in time".into(), delivered: true }
                }
            }
        }
    }
}

/// Folds a confirmed write's answer into the cache. A write whose answer says too little (a like,
/// a join) reads the meetup again, unless stopping comes first (the next read refreshes it).
async fn confirmed(inner: &Inner, item: &OutboxItem, answer: &Value, stop: &mut watch::Receiver<bool>) {
    let Write::Http { kind, path, .. } = &item.write else { return };
    let meetup = path.split('/').nth(3).and_then(|id| id.parse::<i64>().ok());
    if let (Some(id), JOIN) = (meetup, kind.as_str()) {
        // Its room is followed from now on (if it was opened before the join reached the server,
        // it was refused then).
        chat::joined(inner, id);
    }
    let result = match (kind.as_str(), meetup) {
        (CREATE_MEETUP | EDIT_MEETUP, _) => inner.cache.put_meetup(answer).await,
        (DELETE_MEETUP, Some(id)) => inner.cache.forget_meetup(id).await,
        (COMMENT, Some(id)) => inner.cache.put_comments(id, std::slice::from_ref(answer)).await,
        (_, Some(id)) => {
            let path = format!("/v1/meetups/{id}");
            let fresh = tokio::select! {
                fresh = http::get(inner, &path, &[]) => fresh.ok(),
                _ = stop.changed() => None,
            };
            match fresh {
                Some(meetup) => inner.cache.put_meetup(&meetup).await,
                None => Ok(()),
            }
        }
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "the social cache could not be updated");
    }
}
