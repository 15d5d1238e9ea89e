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

mod client;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::wire::{Protocol, Room};
use client::client;

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
