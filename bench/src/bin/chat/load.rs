//! The load generator: one task per client, each one WebSocket in one room, driven through three
//! phases by a watch channel. Every message carries its phase and the instant it was due
//! (nanoseconds since the run's origin), so a receiver can tell its latency without a clock of
//! the sender's: the generator and the server share this machine.
//!
//! - warm-up: every client sends one message; the run waits until all are delivered;
//! - capacity: closed loop, each client sends its next message when the last one is acknowledged,
//!   for `seconds`; the delivered messages per second are the server's maximum rate;
//! - half load: open loop, every client on a fixed schedule (random phase) at half the capacity's
//!   send rate, for `seconds`; latency is from the due instant, so a late send counts against it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::wire::{Incoming, Protocol, Room};

/// A small chat message (the text after the phase and the due instant).
const FILLER: &str = "오늘 저녁 7시 한강 러닝 갈 사람?";
/// Longer than connecting, entering a room or draining may take; past it the run fails.
const PATIENCE: Duration = Duration::from_secs(60);
/// How long a client waits after a rate-limit refusal before its next closed-loop send.
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(100);

pub const WARM_UP: usize = 0;
pub const CAPACITY: usize = 1;
pub const HALF_LOAD: usize = 2;
const PHASES: usize = 3;

/// One client: where it connects, as whom, in which room.
#[derive(Clone)]
pub struct ClientSpec {
    pub url: String,
    pub bearer: Option<String>,
    pub room: Room,
    pub nickname: String,
    /// Ours: the client is in its room once the replay reaches this sequence number (the room's
    /// last join message). The baseline acknowledges its join instead.
    pub ready_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    Once(usize),
    Closed(usize),
    Open(usize, Duration),
    Stop,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    refused: AtomicU64,
    rate_limited: AtomicU64,
    delivered: AtomicU64,
}

impl Counters {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

struct Shared {
    origin: Instant,
    protocol: Protocol,
    ready: AtomicUsize,
    phases: [Counters; PHASES],
}

/// What one client saw: latencies (µs) per phase, and the ids of its acknowledged messages.
#[derive(Default)]
struct ClientRecord {
    latencies: [Vec<u32>; PHASES],
    acked_ids: Vec<i64>,
}

/// One phase's figures.
#[derive(Debug, Clone, Default)]
pub struct PhaseReport {
    pub seconds: f64,
    pub acked: u64,
    pub refused: u64,
    pub rate_limited: u64,
    pub delivered: u64,
    /// Sends never answered, and deliveries of acknowledged messages that never arrived, when
    /// the drain gave up.
    pub unanswered: u64,
    pub undelivered: u64,
    pub latencies_us: Vec<u32>,
}

impl PhaseReport {
    pub fn delivered_per_second(&self) -> f64 {
        self.delivered as f64 / self.seconds
    }

    pub fn sent_per_second(&self) -> f64 {
        self.acked as f64 / self.seconds
    }

    /// The latency at quantile `q` in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        mingizuk_bench::quantile(&self.latencies_us, q).map_or(f64::NAN, |us| f64::from(us) / 1000.0)
    }
}

pub struct LoadReport {
    pub phases: [PhaseReport; PHASES],
    /// Half load's offered send rate, all clients together.
    pub offered_per_second: f64,
    pub acked_ids: Vec<i64>,
}

/// Runs the three phases over `specs` (clients of rooms of `room_size`). The open-loop phase
/// offers half the closed loop's send rate, or `rate` sends per second when it is given.
pub async fn run(
    protocol: Protocol,
    specs: Vec<ClientSpec>,
    room_size: usize,
    seconds: f64,
    rate: Option<f64>,
) -> Result<LoadReport> {
    let clients = specs.len();
    let shared =
        Arc::new(Shared { origin: Instant::now(), protocol, ready: AtomicUsize::new(0), phases: Default::default() });
    let (control, watcher) = watch::channel(Mode::Idle);
    let mut tasks = tokio::task::JoinSet::new();
    // Connections open a few at a time, as a crowd arriving would, not 1 000 in one instant.
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    for spec in specs {
        let (shared, watcher, gate) = (shared.clone(), watcher.clone(), gate.clone());
        tasks.spawn(async move { client(spec, shared, watcher, gate).await });
    }
    wait_until("every client in its room", &mut tasks, || shared.ready.load(Ordering::Relaxed) == clients).await?;

    let mut phases: [PhaseReport; PHASES] = Default::default();
    phases[WARM_UP] = phase(&shared, &control, &mut tasks, Mode::Once(WARM_UP), None, room_size).await?;
    let window = Duration::from_secs_f64(seconds);
    phases[CAPACITY] = phase(&shared, &control, &mut tasks, Mode::Closed(CAPACITY), Some(window), room_size).await?;
    let offered_per_second = rate.unwrap_or(phases[CAPACITY].sent_per_second() / 2.0);
    let period = Duration::from_secs_f64(clients as f64 / offered_per_second.max(1e-3));
    phases[HALF_LOAD] =
        phase(&shared, &control, &mut tasks, Mode::Open(HALF_LOAD, period), Some(window), room_size).await?;

    control.send_replace(Mode::Stop);
    let mut acked_ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let record = done.context("a client task panicked")??;
        for (report, latencies) in phases.iter_mut().zip(record.latencies) {
            report.latencies_us.extend(latencies);
        }
        acked_ids.extend(record.acked_ids);
    }
    for report in &mut phases {
        report.latencies_us.sort_unstable();
    }
    Ok(LoadReport { phases, offered_per_second, acked_ids })
}

/// Sets `mode`, keeps it for `window` (or just until drained, for a one-shot), then waits until
/// every send is answered and every acknowledged message reached all of its room.
async fn phase(
    shared: &Shared,
    control: &watch::Sender<Mode>,
    tasks: &mut tokio::task::JoinSet<Result<ClientRecord>>,
    mode: Mode,
    window: Option<Duration>,
    room_size: usize,
) -> Result<PhaseReport> {
    let index = match mode {
        Mode::Once(p) | Mode::Closed(p) | Mode::Open(p, _) => p,
        Mode::Idle | Mode::Stop => bail!("not a phase: {mode:?}"),
    };
    let started = Instant::now();
    control.send_replace(mode);
    if let Some(window) = window {
        tokio::time::sleep(window).await;
        control.send_replace(Mode::Idle);
    }
    let seconds = started.elapsed().as_secs_f64();
    let c = &shared.phases[index];
    let answered = || Counters::get(&c.acked) + Counters::get(&c.refused) + Counters::get(&c.rate_limited);
    let expected = || Counters::get(&c.acked) * room_size as u64;
    let drained = wait_until("the phase to drain", tasks, || {
        Counters::get(&c.sent) > 0 && answered() == Counters::get(&c.sent) && Counters::get(&c.delivered) >= expected()
    })
    .await;
    if window.is_none() {
        control.send_replace(Mode::Idle);
    }
    if let Err(e) = &drained {
        if Counters::get(&c.sent) == 0 {
            bail!("nothing was sent: {e}");
        }
        eprintln!("warning: {e}; counting what did not arrive as unanswered and undelivered");
    }
    Ok(PhaseReport {
        seconds,
        acked: Counters::get(&c.acked),
        refused: Counters::get(&c.refused),
        rate_limited: Counters::get(&c.rate_limited),
        delivered: Counters::get(&c.delivered),
        unanswered: Counters::get(&c.sent).saturating_sub(answered()),
        undelivered: expected().saturating_sub(Counters::get(&c.delivered)),
        latencies_us: Vec::new(),
    })
}

/// Polls `done` until it holds; fails when a client fails or after `PATIENCE`.
async fn wait_until(
    what: &str,
    tasks: &mut tokio::task::JoinSet<Result<ClientRecord>>,
    done: impl Fn() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            bail!("gave up waiting for {what} after {PATIENCE:?}");
        }
        tokio::select! {
            Some(finished) = tasks.join_next() => {
                finished.context("a client task panicked")??;
                bail!("a client stopped while waiting for {what}");
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    Ok(())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(spec: &ClientSpec, gate: &tokio::sync::Semaphore) -> Result<Socket> {
    let _turn = gate.acquire().await?;
    let mut request = spec.url.as_str().into_client_request()?;
    if let Some(token) = &spec.bearer {
        request.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
    }
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("connecting to {}", spec.url))?;
    Ok(socket)
}

/// How the server answered a send.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    Stored,
    RateLimited,
}

/// One client's state between frames.
struct Client {
    spec: ClientSpec,
    shared: Arc<Shared>,
    socket: Socket,
    record: ClientRecord,
    /// Phase of each unanswered send, by client id.
    pending: HashMap<String, usize>,
    next_ack: u64,
    ready: bool,
}

impl Client {
    async fn send(&mut self, phase: usize, due: Instant) -> Result<()> {
        let client_id = uuid::Uuid::new_v4().to_string();
        let due_ns = due.saturating_duration_since(self.shared.origin).as_nanos();
        let text = format!("{phase} {due_ns} {FILLER}");
        let frame = self.shared.protocol.send(&self.spec.room, &client_id, &text, self.next_ack);
        self.next_ack += 1;
        self.pending.insert(client_id, phase);
        self.shared.phases[phase].sent.fetch_add(1, Ordering::Relaxed);
        self.socket.send(Frame::text(frame)).await?;
        Ok(())
    }

    /// Handles one frame; returns how it answered a send of this client, if it did.
    async fn receive(&mut self, frame: Frame) -> Result<Option<Answer>> {
        let text = match frame {
            Frame::Text(text) => text,
            Frame::Close(Some(close)) => {
                bail!("{}: the server closed the connection: {} {}", self.spec.nickname, close.code, close.reason)
            }
            _ => return Ok(None),
        };
        match self.shared.protocol.read(&text) {
            Incoming::Delivery { seq, text } => {
                if !self.ready && self.shared.protocol == Protocol::Ours && seq >= self.spec.ready_seq {
                    self.became_ready();
                }
                if let Some((phase, due_ns)) = parse_text(&text) {
                    let latency = self.shared.origin.elapsed().as_nanos().saturating_sub(due_ns) / 1000;
                    self.record.latencies[phase].push(u32::try_from(latency).unwrap_or(u32::MAX));
                    self.shared.phases[phase].delivered.fetch_add(1, Ordering::Relaxed);
                }
                Ok(None)
            }
            Incoming::Ack { client_id, id } => {
                let Some(phase) = self.pending.remove(&client_id) else { return Ok(None) };
                self.record.acked_ids.push(id);
                self.shared.phases[phase].acked.fetch_add(1, Ordering::Relaxed);
                Ok(Some(Answer::Stored))
            }
            Incoming::RateLimited { client_id } => {
                let Some(phase) = client_id.and_then(|c| self.pending.remove(&c)) else { return Ok(None) };
                self.shared.phases[phase].rate_limited.fetch_add(1, Ordering::Relaxed);
                Ok(Some(Answer::RateLimited))
            }
            Incoming::Connected => {
                let join = self.shared.protocol.join(&self.spec.room, &self.spec.nickname);
                self.socket.send(Frame::text(join)).await?;
                Ok(None)
            }
            Incoming::Joined => {
                self.became_ready();
                Ok(None)
            }
            Incoming::Ping(pong) => {
                self.socket.send(Frame::text(pong)).await?;
                Ok(None)
            }
            Incoming::Refused(why) => bail!("{}: {why}", self.spec.nickname),
            Incoming::Other => Ok(None),
        }
    }

    fn became_ready(&mut self) {
        if !self.ready {
            self.ready = true;
            self.shared.ready.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `"<phase> <due ns> …"` → (phase, due ns); `None` for texts the generator did not write.
fn parse_text(text: &str) -> Option<(usize, u128)> {
    let mut parts = text.splitn(3, ' ');
    let phase = parts.next()?.parse().ok().filter(|&p| p < PHASES)?;
    Some((phase, parts.next()?.parse().ok()?))
}

async fn tick(ticker: &mut Option<Interval>) -> Instant {
    match ticker {
        Some(t) => t.tick().await,
        None => std::future::pending().await,
    }
}

async fn client(
    spec: ClientSpec,
    shared: Arc<Shared>,
    mut control: watch::Receiver<Mode>,
    gate: Arc<tokio::sync::Semaphore>,
) -> Result<ClientRecord> {
    let mut socket = connect(&spec, &gate).await?;
    socket.send(Frame::text(shared.protocol.enter(&spec.room))).await?;
    let mut me = Client {
        spec,
        shared,
        socket,
        record: ClientRecord::default(),
        pending: HashMap::new(),
        next_ack: 1,
        ready: false,
    };
    let mut mode = Mode::Idle;
    let mut ticker: Option<Interval> = None;
    loop {
        tokio::select! {
            frame = me.socket.next() => {
                let frame = frame.context("the server closed the connection")??;
                let answered = me.receive(frame).await?;
                if let (Some(answer), Mode::Closed(phase)) = (answered, mode)
                    && me.pending.is_empty()
                {
                    if answer == Answer::RateLimited {
                        ticker = Some(tokio::time::interval_at(Instant::now() + RATE_LIMIT_PAUSE, PATIENCE));
                    } else {
                        me.send(phase, Instant::now()).await?;
                    }
                }
            }
            due = tick(&mut ticker) => match mode {
                Mode::Open(phase, _) => me.send(phase, due).await?,
                Mode::Closed(phase) => {
                    ticker = None;
                    me.send(phase, Instant::now()).await?;
                }
                _ => ticker = None,
            },
            changed = control.changed() => {
                if changed.is_err() {
                    break;
                }
                mode = *control.borrow_and_update();
                ticker = None;
                match mode {
                    Mode::Once(phase) | Mode::Closed(phase) => me.send(phase, Instant::now()).await?,
                    Mode::Open(_, period) => {
                        let offset = period.mul_f64(rand_fraction());
                        let mut t = tokio::time::interval_at(Instant::now() + offset, period);
                        t.set_missed_tick_behavior(MissedTickBehavior::Burst);
                        ticker = Some(t);
                    }
                    Mode::Idle => {}
                    Mode::Stop => break,
                }
            }
        }
    }
    let _ = me.socket.close(None).await;
    Ok(me.record)
}

/// A uniform fraction in [0, 1), from a v4 UUID's random bits (no extra dependency for one number).
/// The low 53 bits of its second half: the top two bits there are the fixed variant.
fn rand_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u64_pair().1 & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_generators_own_texts_carry_a_latency() {
        assert_eq!(parse_text(&format!("2 12345 {FILLER}")), Some((2, 12345)));
        assert_eq!(parse_text("님이 들어왔습니다"), None);
        assert_eq!(parse_text("7 1 x"), None);
    }

    #[test]
    fn schedule_offsets_spread_over_the_whole_period() {
        let fractions: Vec<f64> = (0..1000).map(|_| rand_fraction()).collect();
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
        assert!(fractions.iter().any(|&f| f < 0.25) && fractions.iter().any(|&f| f > 0.75));
    }
}
