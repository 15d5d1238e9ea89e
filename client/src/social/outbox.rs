//! The outbox worker: sends queued writes one at a time, oldest first, so a message written after
//! a join reaches the server after it. A write is removed only when the server confirmed it;
//! without an answer it is sent again with the same key after a backoff, and the server applies
//! it once. A refusal is kept with its reason and the worker goes on with the next write. The
//! server forgets a key after a day: a write whose answer was lost is not sent again past
//! `RETRY_WINDOW_MS` but set aside as `unconfirmed` (all but a meetup's deletion, which nothing
//! newer can undo); a join, leave or deletion answered "already so" is done.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::http::{self, Outcome};
use super::kind::{COMMENT, CREATE_MEETUP, DELETE_MEETUP, EDIT_MEETUP, JOIN, LEAVE};
use super::{Ack, Inner, OutboxItem, SocialEvent, Write, chat};

/// How long after it may first have reached the server a write is still sent again. The server
/// keeps the answer to a key for a day from its first run (`KEPT_RESPONSE_LIFETIME`); a retry
/// after that runs the write again: a create makes a second meetup or comment, and an edit, a
/// join, a like (or a leave, an unlike) undoes whatever came after it — a newer edit, a leave or
/// a like made on another device. Past this, the write is set aside as `unconfirmed` for the user
/// to check; only a meetup's deletion is still sent (a deleted meetup stays deleted).
const RETRY_WINDOW_MS: i64 = 20 * 60 * 60 * 1000;

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

/// The refusal of a write that may have reached the server too long ago to be sent again safely.
/// Chat messages are not concerned: the server knows a `client_id` for as long as it keeps the
/// message.
fn unconfirmed(item: &OutboxItem, now_ms: i64) -> Option<Outcome> {
    let Write::Http { kind, .. } = &item.write else { return None };
    let sent = item.sent_at_ms?;
    (kind != DELETE_MEETUP && now_ms - sent > RETRY_WINDOW_MS).then(|| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::kind::{LIKE, UNLIKE};

    const HOUR_MS: i64 = 60 * 60 * 1000;
    const NOW_MS: i64 = 1_793_577_600_000;

    fn item(write: Write, sent_at_ms: Option<i64>) -> OutboxItem {
        OutboxItem {
            key: "k".into(),
            write,
            attempts: 1,
            refused: None,
            created_at_ms: NOW_MS - 48 * HOUR_MS,
            sent_at_ms,
        }
    }

    fn http(kind: &str, sent_at_ms: Option<i64>) -> OutboxItem {
        let write = Write::Http { kind: kind.into(), method: "POST".into(), path: "/v1/meetups/7".into(), body: None };
        item(write, sent_at_ms)
    }

    fn set_aside(item: &OutboxItem) -> bool {
        matches!(unconfirmed(item, NOW_MS), Some(Outcome::Refused(code, _)) if code == "unconfirmed")
    }

    #[test]
    fn every_write_but_a_deletion_whose_answer_was_lost_past_the_window_is_set_aside() {
        let a_day_ago = Some(NOW_MS - 24 * HOUR_MS);
        // A late create posts twice; a late edit, join or like (leave, unlike) undoes a newer edit,
        // leave or unlike (join, like) made elsewhere meanwhile.
        for kind in [CREATE_MEETUP, COMMENT, EDIT_MEETUP, JOIN, LIKE, LEAVE, UNLIKE] {
            assert!(set_aside(&http(kind, a_day_ago)), "a {kind} maybe sent a day ago is set aside");
            assert!(!set_aside(&http(kind, Some(NOW_MS - HOUR_MS))), "a {kind} within the window is sent again");
            assert!(!set_aside(&http(kind, None)), "a {kind} that never left is sent");
        }
        assert!(!set_aside(&http(DELETE_MEETUP, a_day_ago)), "a deleted meetup stays deleted: sent again");
        let message = Write::Message { meetup_id: 7, text: "늦었지만".into() };
        assert!(!set_aside(&item(message, a_day_ago)), "the server knows a message's client id for good");
    }
}
