//! One client of the load: its WebSocket, its sends (closed loop, open loop or one-shot, as the
//! watch channel says) and what it hears: deliveries with their latency, acks, refusals.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{ClientRecord, ClientSpec, FILLER, Mode, PATIENCE, PHASES, RATE_LIMIT_PAUSE, Shared};
use crate::wire::{Incoming, Protocol};

/// Each client's WebSocket read buffer. Tungstenite zero-fills its free part before every socket
/// read (128 KiB by default: a thousand clients zeroing that much per read took a share of the
/// cores the server under test needs); the frames it reads are a few hundred bytes.
const READ_BUFFER_BYTES: usize = 4 * 1024;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(spec: &ClientSpec, gate: &tokio::sync::Semaphore) -> Result<Socket> {
    let _turn = gate.acquire().await?;
    let mut request = spec.url.as_str().into_client_request()?;
    if let Some(token) = &spec.bearer {
        request.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
    }
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
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

pub(super) async fn client(
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
