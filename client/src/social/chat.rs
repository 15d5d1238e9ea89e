//! The live chat connection (`GET /v1/chat`, JSON text frames, DESIGN.md "Chat"): one WebSocket
//! for every room this device follows. Each connection subscribes every followed room from its
//! replay mark in the cache, so what was missed while offline is replayed, and a replay cut short
//! goes on where it stopped; a room subscribed for the first time starts after its newest page
//! (PRODUCT.md §7: newest 50, older on scroll), so a long history is not replayed whole (a page
//! that fails for a moment is asked for again before the room falls back to a replay). Messages
//! are kept once each (by id and by seq), and acks and refusals go back to the outbox. A connection
//! that hears not a byte for `Liveness::silent_for` is taken for lost and made again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::socket::{self, Heartbeat, Socket};
use super::{Ack, ChatMessage, Inner, MeetupId, SocialEvent, http, online};
use crate::error::{ClientError, Result};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A connection online this long was a working one: the wait after it starts again from the first.
const STABLE: Duration = Duration::from_secs(10);
/// Refusals of a chat message or a subscribe that are worth sending it again for.
const TRANSIENT: &[&str] = &["rate_limited", "storage_failed", "internal"];
/// How long a room whose subscribe was refused for a moment waits before it is subscribed again,
/// doubling with each refusal in a row up to `MAX_BACKOFF` (plus jitter, so that a reconnect's
/// refused rooms do not all come back in one burst).
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);
/// How many times a room's first open asks for its newest page before it replays the room whole
/// instead, and how long it waits after the first failure (doubling after each): a few seconds in
/// all, for a throttled or restarting server to answer.
const PAGE_TRIES: u32 = 4;
const PAGE_RETRY_AFTER: Duration = Duration::from_millis(500);

/// Follows `meetup` from now on, subscribing at once if connected.
pub(super) fn follow(inner: &Inner, meetup: MeetupId) {
    let added = inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).insert(meetup);
    if added {
        // The catch-up point is read by the connection task; ask it to subscribe.
        inner.link.send(follow_frame(meetup));
    }
}

/// The connection task's own frame: subscribe `meetup` from its replay mark in the cache (read by
/// the task when it handles the frame, not when it is queued).
fn follow_frame(meetup: MeetupId) -> Value {
    json!({ "type": "_follow", "meetup_id": meetup })
}

/// Follows a room the user's join was just confirmed for, and subscribes it again on the live
/// connection: if it was opened before the join reached the server, its subscribe was refused
/// (`not_member`) and the room left the followed set.
pub(super) fn joined(inner: &Inner, meetup: MeetupId) {
    inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).insert(meetup);
    inner.link.send(follow_frame(meetup));
}

/// Codes that end a room for this device: the user is not (or no longer) a member, or the meetup
/// is gone. The room is no longer followed, so later connections do not subscribe it again only
/// to be refused; opening it (or a confirmed join) follows it again.
const ENDS_ROOM: &[&str] = &["not_member", "unknown_meetup"];

pub(super) async fn run(inner: Arc<Inner>) {
    let mut stop = inner.stop.subscribe();
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *stop.borrow() {
            break;
        }
        let mut online_since = None;
        let ended = tokio::select! {
            ended = session(&inner, &mut online_since) => ended,
            _ = stop.changed() => break,
        };
        went_offline(&inner);
        if let Err(e) = ended {
            if matches!(e, ClientError::SignedOut) {
                break;
            }
            tracing::debug!(error = %e, "the chat connection ended");
        }
        backoff = after_connection(backoff, online_since.map(|at: tokio::time::Instant| at.elapsed()));
        let jitter = backoff.mul_f64(rand::random::<f64>() * 0.5);
        tokio::select! {
            () = tokio::time::sleep(backoff + jitter) => {}
            _ = stop.changed() => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    went_offline(&inner);
}

/// The wait before the next connection, given the last wait and how long the connection that
/// just ended was online: a drop after a while online (the network changed, the server restarted)
/// starts again from the first wait, however many drops came before; a connection that failed or
/// fell at once keeps backing off.
fn after_connection(backoff: Duration, online_for: Option<Duration>) -> Duration {
    if online_for.is_some_and(|online| online >= STABLE) { FIRST_BACKOFF } else { backoff }
}

/// The wait before subscribing a room again after its `refusals`-th transient refusal in a row.
fn resubscribe_wait(refusals: u32) -> Duration {
    RESUBSCRIBE_AFTER.saturating_mul(1 << refusals.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

fn went_offline(inner: &Inner) {
    *inner.link.out.lock().unwrap_or_else(|p| p.into_inner()) = None;
    // A new connection subscribes every room afresh.
    inner.link.refused.lock().unwrap_or_else(|p| p.into_inner()).clear();
    // Waiting sends learn the connection is gone and are sent again on the next one.
    inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).clear();
    if inner.online.send_replace(false) {
        let _ = inner.events.send(SocialEvent::Online { online: false });
    }
}

async fn connect(inner: &Inner, force_refresh: bool) -> Result<Socket> {
    let token = inner.credentials.access_token_of(&inner.owner, force_refresh).await?;
    let base = inner.credentials.api.base();
    let ws = match (base.strip_prefix("https://"), base.strip_prefix("http://")) {
        (Some(rest), _) => format!("wss://{rest}"),
        (_, Some(rest)) => format!("ws://{rest}"),
        _ => base.to_owned(),
    };
    socket::open(&format!("{ws}/v1/chat"), &token, None, &inner.liveness).await
}

/// One connection: subscribe every followed room from its replay mark, then relay frames both ways,
/// until it ends (always with an error); `online_since` is set when it comes online.
async fn session(inner: &Arc<Inner>, online_since: &mut Option<tokio::time::Instant>) -> Result<()> {
    let mut socket = match connect(inner, false).await {
        Err(ClientError::Server { status: 401, .. }) => connect(inner, true).await?,
        other => other?,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    *inner.link.out.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    let rooms: Vec<MeetupId> = inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
    for room in rooms {
        subscribe(inner, &mut socket, room, false).await?;
    }
    inner.online.send_replace(true);
    *online_since = Some(tokio::time::Instant::now());
    let _ = inner.events.send(SocialEvent::Online { online: true });
    // Sends queued while offline go now.
    inner.wake.notify_one();
    let mut heartbeat = Heartbeat::start(&inner.liveness, socket.heard());
    loop {
        tokio::select! {
            frame = heartbeat.next(&mut socket) => {
                let frame = frame?;
                let Some(frame) = frame else { return Err(ClientError::Network("the chat connection closed".into())) };
                match frame.map_err(|e| ClientError::Network(e.to_string()))? {
                    Frame::Text(text) => received(inner, &text).await?,
                    Frame::Close(_) => return Err(ClientError::Network("the server closed the chat connection".into())),
                    _ => {}
                }
            }
            Some(out) = rx.recv() => {
                let frame: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                if frame["type"] == "_follow" {
                    if let Some(room) = frame["meetup_id"].as_i64() {
                        subscribe(inner, &mut socket, room, frame["from_start"] == true).await?;
                    }
                    continue;
                }
                socket.send(Frame::Text(out.into())).await.map_err(|e| ClientError::Network(e.to_string()))?;
            }
        }
    }
}

/// Subscribes `room` from its replay mark. A room without one (never subscribed) first gets its
/// newest page, away from the connection's loop (a slow answer must not hold up the live chat),
/// and is subscribed once the page is in — or from its first message with `from_start`.
async fn subscribe(inner: &Arc<Inner>, socket: &mut Socket, room: MeetupId, from_start: bool) -> Result<()> {
    let since = match inner.cache.replay_mark(room).await? {
        Some(mark) => mark,
        None if from_start => 0,
        None => {
            if inner.link.opening.lock().unwrap_or_else(|p| p.into_inner()).insert(room) {
                tokio::spawn(first_open(inner.clone(), room));
            }
            return Ok(());
        }
    };
    let frame = json!({ "type": "subscribe", "meetup_id": room, "since_seq": since });
    socket.send(Frame::Text(frame.to_string().into())).await.map_err(|e| ClientError::Network(e.to_string()))
}

/// A room's first open: its newest page, fetched over HTTP and cached, and its replay mark at the
/// page's top, so the live stream starts after it (its older history comes by scrolling up); then
/// the room is subscribed on the live connection. A page that failed for a moment (no answer, the
/// server busy, throttled or failing) is asked for again with backoff, up to `PAGE_TRIES` times.
/// When the page cannot be had even so, or the server refused it (the subscribe's refusal then
/// says why), the room is replayed from its first message instead: slower for a long history, but
/// never short of a message, as a replay cut short goes on from the replay mark on the next
/// connection.
async fn first_open(inner: Arc<Inner>, room: MeetupId) {
    let mut stop = inner.stop.subscribe();
    let page = tokio::select! {
        page = newest_page_retried(&inner, room) => page,
        _ = stop.changed() => Err(ClientError::Network("stopped".into())),
    };
    inner.link.opening.lock().unwrap_or_else(|p| p.into_inner()).remove(&room);
    if let Err(e) = &page {
        tracing::debug!(room, error = %e, "no newest page for a room's first open: it is replayed whole");
    }
    inner.link.send(json!({ "type": "_follow", "meetup_id": room, "from_start": page.is_err() }));
}

/// [`newest_page`], asked for again after each failure of the moment, waiting `PAGE_RETRY_AFTER`
/// doubling (with jitter, so that a reconnect's rooms do not all come back in one burst), until it
/// is had, refused, or `PAGE_TRIES` tries failed. A try gets as long as a connection has to open
/// (`Liveness::connect_within`): a server that leaves the request hanging is a failure of the
/// moment too, not a wait of the HTTP client's whole timeout per try.
async fn newest_page_retried(inner: &Inner, room: MeetupId) -> Result<()> {
    let mut wait = PAGE_RETRY_AFTER;
    let mut tries = 1;
    loop {
        let page = tokio::time::timeout(inner.liveness.connect_within, newest_page(inner, room)).await;
        let page =
            page.unwrap_or_else(|_| Err(ClientError::Network("the server did not answer the page in time".into())));
        match page {
            Err(e) if tries < PAGE_TRIES && http::unavailable(&e) => {
                tracing::debug!(room, tries, error = %e, "a room's newest page failed for a moment: asked again");
                tokio::time::sleep(wait + wait.mul_f64(rand::random::<f64>() * 0.5)).await;
                wait *= 2;
                tries += 1;
            }
            done => return done,
        }
    }
}

async fn newest_page(inner: &Inner, room: MeetupId) -> Result<()> {
    let page = online::history_page(inner, room, i64::MAX).await?;
    for message in &page {
        if inner.cache.put_message(message).await? {
            let _ = inner.events.send(SocialEvent::Message { message: message.clone() });
        }
    }
    let top = page.iter().map(|m| m.seq).max().unwrap_or(0);
    inner.cache.start_replay_after(room, top).await?;
    Ok(())
}

async fn received(inner: &Inner, text: &str) -> Result<()> {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        tracing::debug!("an unreadable chat frame");
        return Ok(());
    };
    match frame["type"].as_str() {
        Some("message") => {
            let Ok(message) = serde_json::from_value::<ChatMessage>(frame) else { return Ok(()) };
            if inner.cache.put_streamed(&message).await? {
                let _ = inner.events.send(SocialEvent::Message { message });
            }
        }
        Some("ack") => {
            if let Some(client_id) = frame["client_id"].as_str() {
                settle(inner, client_id, Ack::Stored);
            }
        }
        Some("notice") => {
            if let Some(room) = frame["meetup_id"].as_i64() {
                // A subscribe's first answer: the room is in (and followed, even if a refusal of
                // an earlier subscribe of it came just before).
                inner.link.refused.lock().unwrap_or_else(|p| p.into_inner()).remove(&room);
                inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).insert(room);
                inner.cache.put_notice(room, &frame["notice"]).await?;
                let _ = inner.events.send(SocialEvent::Notice { meetup_id: room, notice: frame["notice"].clone() });
            }
        }
        Some("error") => {
            let code = frame["code"].as_str().unwrap_or("error").to_owned();
            let message = frame["message"].as_str().unwrap_or("").to_owned();
            match frame["client_id"].as_str() {
                // A transient refusal: drop the waiter, the outbox sends the message again.
                Some(client_id) if TRANSIENT.contains(&code.as_str()) => {
                    inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).remove(client_id);
                }
                Some(client_id) => settle(inner, client_id, Ack::Refused(code, message)),
                // A subscribe refused for a moment (a reconnect's burst of subscribes met the rate
                // limit, storage failed): subscribe again soon on this connection, or the room
                // would stay silent until the next one. (A new connection subscribes every room.)
                None => match frame["meetup_id"].as_i64() {
                    Some(room) if TRANSIENT.contains(&code.as_str()) => {
                        let refusals = {
                            let mut refused = inner.link.refused.lock().unwrap_or_else(|p| p.into_inner());
                            let count = refused.entry(room).or_insert(0);
                            *count += 1;
                            *count
                        };
                        let wait = resubscribe_wait(refusals);
                        let wait = wait + wait.mul_f64(rand::random::<f64>() * 0.5);
                        let out = inner.link.out.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        if let Some(out) = out {
                            tokio::spawn(async move {
                                tokio::time::sleep(wait).await;
                                let _ = out.send(follow_frame(room).to_string());
                            });
                        }
                    }
                    Some(room) if ENDS_ROOM.contains(&code.as_str()) => {
                        inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).remove(&room);
                        inner.link.refused.lock().unwrap_or_else(|p| p.into_inner()).remove(&room);
                    }
                    _ => tracing::info!(%code, %message, "the chat server refused a request"),
                },
            }
        }
        _ => {}
    }
    Ok(())
}

fn settle(inner: &Inner, client_id: &str, ack: Ack) {
    if let Some(waiter) = inner.link.acks.lock().unwrap_or_else(|p| p.into_inner()).remove(client_id) {
        let _ = waiter.send(ack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reconnect_wait_starts_again_after_a_connection_that_worked_for_a_while() {
        let mut backoff = FIRST_BACKOFF;
        for _ in 0..10 {
            backoff = (after_connection(backoff, None) * 2).min(MAX_BACKOFF);
        }
        assert_eq!(backoff, MAX_BACKOFF, "failures back off to the cap");
        assert_eq!(after_connection(backoff, Some(Duration::from_secs(1))), MAX_BACKOFF, "online a moment: no reset");
        assert_eq!(after_connection(backoff, Some(Duration::from_secs(3600))), FIRST_BACKOFF, "an hour online");
    }

    #[test]
    fn a_room_refused_again_and_again_waits_longer_each_time_up_to_the_cap() {
        let waits: Vec<u64> = (1..=8).map(|n| resubscribe_wait(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
