//! Fan-out across server instances through Redis pub/sub: what one instance publishes to its own
//! subscribers it also publishes on a Redis channel, and every other instance hands it to its own
//! (chat rooms: `chat/bus.rs`; documents: `sync/hub.rs`). Pub/sub may drop anything, so it only
//! ever hurries delivery along: storage stays the source of truth. After any loss this side can
//! see — its publisher cut off from Redis or its queue full, its subscriber reconnected — every
//! instance is told to catch up from storage (`Event::catch_up`).
//!
//! One channel per kind of event, like Socket.IO's Redis adapter: each instance hears everything
//! and keeps what it has subscribers for. Events from the instance itself are skipped (it
//! delivered them already).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::IntoConnectionInfo;
use redis::io::tcp::TcpSettings;
use redis::io::tcp::socket2::TcpKeepalive;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::Secret;

/// Events waiting for the publisher; past this they are dropped (and the other instances told to
/// catch up from storage once Redis answers again).
const QUEUE: usize = 65_536;
/// The most events sent to Redis in one pipeline.
const PIPELINE: usize = 512;
/// Waits between attempts to reach Redis: from the first to the last, doubling.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_LAST: Duration = Duration::from_secs(5);

/// What travels on a channel.
pub trait Event: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// The event that tells the others they may have missed something: catch up from storage.
    fn catch_up() -> Self;
}

/// What the instance does with what the others publish.
pub trait Listener<E>: Send + Sync + 'static {
    fn hear(&self, event: E);
}

#[derive(Serialize, Deserialize)]
struct Envelope<E> {
    /// The instance that published it.
    from: Uuid,
    #[serde(flatten)]
    event: E,
}

/// This instance's end of one channel: publishing never waits, whatever Redis is doing.
pub struct Bus<E> {
    queue: mpsc::Sender<E>,
    /// Set when an event could not be queued: the publisher tells everyone to catch up.
    dropped: Arc<AtomicBool>,
}

/// Where a bus meets the other instances, and what its events are about (for the logs).
pub struct Channel<'a> {
    pub url: &'a Secret,
    pub name: String,
    pub what: &'static str,
}

impl<E: Event> Bus<E> {
    /// Starts the publisher and the subscriber tasks (they run as long as the runtime does). The
    /// URL is checked here; reaching Redis is retried in the background, so an instance starts
    /// and serves its own subscribers while Redis is away.
    pub fn start(channel: Channel<'_>, listener: Arc<dyn Listener<E>>) -> Result<Self, redis::RedisError> {
        // No Nagle delay for small pipelined PUBLISHes; keepalive probes, so that a subscription
        // whose peer vanished without a word (no FIN, no RST) fails within about two minutes and
        // reconnects instead of waiting for ever.
        let keepalive = TcpKeepalive::new().with_time(Duration::from_secs(30)).with_interval(Duration::from_secs(10));
        let tcp = TcpSettings::default().set_nodelay(true).set_keepalive(keepalive);
        let client = redis::Client::open(channel.url.expose().into_connection_info()?.set_tcp_settings(tcp))?;
        let instance = Uuid::new_v4();
        let (queue, receiver) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicBool::new(false));
        let Channel { name, what, .. } = channel;
        let publisher = Publisher { client: client.clone(), channel: name.clone(), what, instance };
        tokio::spawn(publisher.run(receiver, Arc::clone(&dropped)));
        tokio::spawn(subscribe(client, name, what, instance, listener));
        Ok(Self { queue, dropped })
    }

    pub fn publish(&self, event: E) {
        if self.queue.try_send(event).is_err() {
            self.dropped.store(true, Ordering::Relaxed);
        }
    }
}

struct Publisher {
    client: redis::Client,
    channel: String,
    what: &'static str,
    instance: Uuid,
}

impl Publisher {
    /// Sends queued events to Redis in order, in pipelines of whatever is queued. An event that
    /// may not have reached Redis (an error, a full queue) is made up for with a catch-up once it
    /// answers.
    async fn run<E: Event>(self, mut receiver: mpsc::Receiver<E>, dropped: Arc<AtomicBool>) {
        let what = self.what;
        let mut batch = Vec::new();
        'connect: loop {
            let mut connection = connect(what, "publisher", || self.client.get_multiplexed_async_connection()).await;
            loop {
                if batch.is_empty() {
                    // After a loss the catch-up goes first, without waiting for a new event.
                    if dropped.swap(false, Ordering::Relaxed) {
                        batch.push(E::catch_up());
                    } else {
                        match receiver.recv().await {
                            Some(event) => batch.push(event),
                            None => return,
                        }
                    }
                    while batch.len() < PIPELINE {
                        match receiver.try_recv() {
                            Ok(event) => batch.push(event),
                            Err(_) => break,
                        }
                    }
                }
                let mut pipe = redis::pipe();
                for event in &batch {
                    let envelope = Envelope { from: self.instance, event: event.clone() };
                    // Plain structs with string keys: encoding cannot fail.
                    let payload = serde_json::to_vec(&envelope).unwrap_or_default();
                    pipe.cmd("PUBLISH").arg(&self.channel).arg(payload).ignore();
                }
                match pipe.exec_async(&mut connection).await {
                    Ok(()) => batch.clear(),
                    Err(e) => {
                        // Some of the batch may have gone out; what did not is made up for by the
                        // catch-up sent first once Redis answers again.
                        tracing::warn!(error = %e, what, "fan-out: publishing to Redis failed; reconnecting");
                        batch.clear();
                        dropped.store(true, Ordering::Relaxed);
                        continue 'connect;
                    }
                }
            }
        }
    }
}

/// Hears the channel and hands every other instance's events to the listener. Each time the
/// subscription is made, the first time too, the instance's own subscribers catch up from
/// storage: events of the meanwhile are lost, and an instance serves while Redis is away, from
/// its start on (nothing to do when nothing is in memory yet).
async fn subscribe<E: Event>(
    client: redis::Client,
    channel: String,
    what: &'static str,
    instance: Uuid,
    listener: Arc<dyn Listener<E>>,
) {
    loop {
        let mut pubsub = connect(what, "subscriber", || client.get_async_pubsub()).await;
        if let Err(e) = pubsub.subscribe(&channel).await {
            tracing::warn!(error = %e, what, "fan-out: subscribing to Redis failed; retrying");
            tokio::time::sleep(RETRY_FIRST).await;
            continue;
        }
        listener.hear(E::catch_up());
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            match serde_json::from_slice::<Envelope<E>>(message.get_payload_bytes()) {
                Ok(envelope) if envelope.from == instance => {}
                Ok(envelope) => listener.hear(envelope.event),
                Err(e) => tracing::warn!(error = %e, what, "fan-out: an event on the channel is not ours; ignored"),
            }
        }
        tracing::warn!(what, "fan-out: the Redis subscription ended; reconnecting");
    }
}

/// Connects, retrying with a growing wait until Redis answers.
async fn connect<T, F, Fut>(what: &str, role: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    let mut wait = RETRY_FIRST;
    loop {
        match attempt().await {
            Ok(connection) => return connection,
            Err(e) => {
                tracing::warn!(error = %e, what, role, "fan-out: cannot reach Redis; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_LAST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Said {
        Hello { to: String },
        CatchUp,
    }

    impl Event for Said {
        fn catch_up() -> Self {
            Said::CatchUp
        }
    }

    /// Passes what the instance hears on to the test.
    struct Heard(mpsc::UnboundedSender<Said>);

    impl Listener<Said> for Heard {
        fn hear(&self, event: Said) {
            let _ = self.0.send(event);
        }
    }

    #[tokio::test]
    async fn an_instance_that_reaches_redis_only_after_it_started_catches_up_from_storage() {
        // A port where nothing listens yet: Redis comes up there later, as a relay to the real one.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("port").port();
        let (heard, mut hearing) = mpsc::unbounded_channel();
        let url = Secret::new(format!("redis://127.0.0.1:{port}"));
        let name = format!("mingizuk-test-late-{}", Uuid::new_v4().simple());
        let _bus: Bus<Said> =
            Bus::start(Channel { url: &url, name, what: "test" }, Arc::new(Heard(heard))).expect("a valid URL");
        // It serves meanwhile (events others publish now are lost to it), failing to reach Redis.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let relay = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the port is still free");
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = relay.accept().await {
                tokio::spawn(async move {
                    let mut redis = tokio::net::TcpStream::connect("127.0.0.1:6379").await.expect("Redis runs");
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut redis).await;
                });
            }
        });
        let first = tokio::time::timeout(Duration::from_secs(10), hearing.recv()).await;
        assert_eq!(first.expect("heard something once subscribed"), Some(Said::CatchUp));
    }

    #[test]
    fn an_event_travels_with_the_instance_it_came_from_and_comes_back_the_same() {
        let from = Uuid::new_v4();
        for event in [Said::Hello { to: "room 7".into() }, Said::CatchUp] {
            let text = serde_json::to_string(&Envelope { from, event: event.clone() }).expect("encode");
            let back: Envelope<Said> = serde_json::from_str(&text).expect("decode");
            assert_eq!((back.from, back.event), (from, event), "{text}");
        }
    }
}
