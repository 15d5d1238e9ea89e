//! Fan-out across server instances through Redis pub/sub (DESIGN.md "Chat"): what one instance
//! publishes to its own subscribers (a stored message, a notice, a member removed, a member back)
//! it also publishes on one Redis channel, and every other instance hands it to its subscribers of
//! that room. Pub/sub may drop anything, so it only ever hurries delivery along: storage stays the
//! source of truth. A connection fills a gap in a room's sequence from storage (`connection.rs`),
//! and after any loss this side can see — its publisher cut off from Redis, its subscriber
//! reconnected — every instance is told to make each of its subscribers catch up from storage.
//!
//! One channel for every room, like Socket.IO's Redis adapter: each instance hears every room and
//! keeps what it has subscribers for. Order within a room comes from its sequence numbers, not from
//! the channel; events from the instance itself are skipped (it delivered them already).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::IntoConnectionInfo;
use redis::io::tcp::TcpSettings;
use redis::io::tcp::socket2::TcpKeepalive;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::RedisConfig;
use crate::storage::UserId;
use crate::storage::chat::MeetupId;

/// Events waiting for the publisher; past this they are dropped (and the other instances told to
/// catch up from storage once Redis answers again).
const QUEUE: usize = 65_536;
/// The most events sent to Redis in one pipeline.
const PIPELINE: usize = 512;
/// Waits between attempts to reach Redis: from the first to the last, doubling.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_LAST: Duration = Duration::from_secs(5);

/// What one instance tells the others about a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shout {
    /// A message the room stored, as its `message` frame.
    Message { meetup: MeetupId, seq: i64, frame: String },
    /// The room's notice changed: its `notice` frame.
    Notice { meetup: MeetupId, frame: String },
    /// The member left the meetup: their connections hear the room no more and their queued
    /// sends are refused.
    Left { meetup: MeetupId, user: UserId },
    /// The member joined (again): their sends are accepted.
    Joined { meetup: MeetupId, user: UserId },
    /// The meetup was deleted: everyone in its room is told and removed.
    Closed { meetup: MeetupId },
    /// Something may have been lost on the way: every subscriber of every room catches up from
    /// storage.
    CatchUp,
}

impl Shout {
    /// The room it is about; `None` for a catch-up, which is about every room.
    pub fn meetup(&self) -> Option<MeetupId> {
        match self {
            Self::Message { meetup, .. }
            | Self::Notice { meetup, .. }
            | Self::Left { meetup, .. }
            | Self::Joined { meetup, .. }
            | Self::Closed { meetup } => Some(*meetup),
            Self::CatchUp => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The instance that published it.
    from: Uuid,
    #[serde(flatten)]
    shout: Shout,
}

/// What the instance does with what the others publish (the rooms, in the server).
pub trait Listener: Send + Sync + 'static {
    fn hear(&self, shout: Shout);
}

/// This instance's end of the bus: publishing never waits, whatever Redis is doing.
pub struct Bus {
    queue: mpsc::Sender<Shout>,
    /// Set when an event could not be queued: the publisher tells everyone to catch up.
    dropped: Arc<AtomicBool>,
}

impl Bus {
    /// Starts the publisher and the subscriber tasks (they run as long as the runtime does). The
    /// URL is checked here; reaching Redis is retried in the background, so an instance starts
    /// and serves its own rooms while Redis is away.
    pub fn start(config: &RedisConfig, listener: Arc<dyn Listener>) -> Result<Self, redis::RedisError> {
        // No Nagle delay for small pipelined PUBLISHes; keepalive probes, so that a subscription
        // whose peer vanished without a word (no FIN, no RST) fails within about two minutes and
        // reconnects instead of waiting for ever.
        let keepalive = TcpKeepalive::new().with_time(Duration::from_secs(30)).with_interval(Duration::from_secs(10));
        let tcp = TcpSettings::default().set_nodelay(true).set_keepalive(keepalive);
        let client = redis::Client::open(config.url.expose().into_connection_info()?.set_tcp_settings(tcp))?;
        let instance = Uuid::new_v4();
        let (queue, receiver) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicBool::new(false));
        tokio::spawn(publish(client.clone(), config.channel.clone(), instance, receiver, Arc::clone(&dropped)));
        tokio::spawn(subscribe(client, config.channel.clone(), instance, listener));
        Ok(Self { queue, dropped })
    }

    pub fn publish(&self, shout: Shout) {
        if self.queue.try_send(shout).is_err() {
            self.dropped.store(true, Ordering::Relaxed);
        }
    }
}

/// Sends queued events to Redis in order, in pipelines of whatever is queued. An event that may not
/// have reached Redis (an error, a full queue) is made up for with a `CatchUp` once it answers.
async fn publish(
    client: redis::Client,
    channel: String,
    instance: Uuid,
    mut receiver: mpsc::Receiver<Shout>,
    dropped: Arc<AtomicBool>,
) {
    let mut batch = Vec::new();
    'connect: loop {
        let mut connection = connect("publisher", || client.get_multiplexed_async_connection()).await;
        loop {
            if batch.is_empty() {
                // After a loss the catch-up goes first, without waiting for a new event.
                if dropped.swap(false, Ordering::Relaxed) {
                    batch.push(Shout::CatchUp);
                } else {
                    match receiver.recv().await {
                        Some(shout) => batch.push(shout),
                        None => return,
                    }
                }
                while batch.len() < PIPELINE {
                    match receiver.try_recv() {
                        Ok(shout) => batch.push(shout),
                        Err(_) => break,
                    }
                }
            }
            let mut pipe = redis::pipe();
            for shout in &batch {
                let envelope = Envelope { from: instance, shout: shout.clone() };
                // Plain structs with string keys: encoding cannot fail.
                let payload = serde_json::to_vec(&envelope).unwrap_or_default();
                pipe.cmd("PUBLISH").arg(&channel).arg(payload).ignore();
            }
            match pipe.exec_async(&mut connection).await {
                Ok(()) => batch.clear(),
                Err(e) => {
                    // Some of the batch may have gone out; what did not is made up for by the
                    // catch-up sent first once Redis answers again.
                    tracing::warn!(error = %e, "chat fan-out: publishing to Redis failed; reconnecting");
                    batch.clear();
                    dropped.store(true, Ordering::Relaxed);
                    continue 'connect;
                }
            }
        }
    }
}

/// Hears the channel and hands every other instance's events to the listener. After a reconnect
/// (events of the meanwhile are lost) the instance's own subscribers catch up from storage.
async fn subscribe(client: redis::Client, channel: String, instance: Uuid, listener: Arc<dyn Listener>) {
    let mut first = true;
    loop {
        let mut pubsub = connect("subscriber", || client.get_async_pubsub()).await;
        if let Err(e) = pubsub.subscribe(&channel).await {
            tracing::warn!(error = %e, "chat fan-out: subscribing to Redis failed; retrying");
            tokio::time::sleep(RETRY_FIRST).await;
            continue;
        }
        if !first {
            listener.hear(Shout::CatchUp);
        }
        first = false;
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
                Ok(envelope) if envelope.from == instance => {}
                Ok(envelope) => listener.hear(envelope.shout),
                Err(e) => tracing::warn!(error = %e, "chat fan-out: an event on the channel is not ours; ignored"),
            }
        }
        tracing::warn!("chat fan-out: the Redis subscription ended; reconnecting");
    }
}

/// Connects, retrying with a growing wait until Redis answers.
async fn connect<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    let mut wait = RETRY_FIRST;
    loop {
        match attempt().await {
            Ok(connection) => return connection,
            Err(e) => {
                tracing::warn!(error = %e, what, "chat fan-out: cannot reach Redis; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_LAST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_travels_as_tagged_json_and_comes_back_the_same() {
        let user = UserId::random();
        for shout in [
            Shout::Message { meetup: 7, seq: 3, frame: r#"{"type":"message"}"#.into() },
            Shout::Notice { meetup: 7, frame: "{}".into() },
            Shout::Left { meetup: 7, user },
            Shout::Joined { meetup: 7, user },
            Shout::Closed { meetup: 7 },
            Shout::CatchUp,
        ] {
            let envelope = Envelope { from: Uuid::nil(), shout: shout.clone() };
            let text = serde_json::to_string(&envelope).expect("encode");
            let back: Envelope = serde_json::from_str(&text).expect("decode");
            assert_eq!(back.shout, shout, "{text}");
        }
    }
}
