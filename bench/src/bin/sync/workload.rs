//! The protocol-level workloads, run by bare clients against any server that speaks the
//! automerge-repo protocol (ours or the reference one):
//! - many clients, each changing its own small document one small put at a time and waiting
//!   for the server's heads to cover the change before making the next (one change per message,
//!   one message in flight per client);
//! - a device holding many documents reconnecting with nothing new: fresh sync states, every
//!   document offered at once, done when the server has confirmed each one's heads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mingizuk_client::core::automerge::sync::{self, SyncDoc};
use mingizuk_client::core::automerge::transaction::Transactable;
use mingizuk_client::core::automerge::{AutoCommit, ROOT};
use mingizuk_client::core::wire;
use tokio::sync::Barrier;

use crate::peer::{self, Peer, Target};

/// Acknowledged changes over the measured window, with each change's round trip.
pub struct Throughput {
    pub clients: usize,
    pub changes: usize,
    pub seconds: f64,
    /// Round trips (change made → server heads cover it), sorted, in milliseconds.
    pub latencies: Vec<f64>,
}

impl Throughput {
    pub fn per_second(&self) -> f64 {
        self.changes as f64 / self.seconds
    }

    pub fn latency(&self, p: f64) -> f64 {
        mingizuk_bench::quantile(&self.latencies, p).unwrap_or(0.0)
    }

    pub fn mean_latency(&self) -> f64 {
        self.latencies.iter().sum::<f64>() / self.latencies.len().max(1) as f64
    }
}

/// One small change: a counter and a short text, as a completion's worth of fields.
fn small_change(doc: &mut AutoCommit, n: u64) -> Result<()> {
    doc.put(ROOT, "count", n)?;
    doc.put(ROOT, "at", format!("2026-01-01T00:{:02}:{:02}", n / 60 % 60, n % 60))?;
    doc.commit();
    Ok(())
}

/// Runs one client per target (so targets may repeat a user's token) for `seconds` after all of
/// them have connected and stored their document's first change.
pub async fn changes_per_second(targets: &[Target], seconds: f64) -> Result<Throughput> {
    let start = Arc::new(Barrier::new(targets.len() + 1));
    let window = Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for target in targets {
        let (target, start) = (target.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let setup = async {
                let mut peer = Peer::connect(&target).await?;
                let doc = first_change(&mut peer).await?;
                Ok::<_, anyhow::Error>((peer, doc))
            }
            .await;
            // Every task reaches the barrier, failed or not, so the others are not left waiting.
            start.wait().await;
            let (mut peer, (id, mut doc, mut state)) = setup?;
            let mut latencies = Vec::new();
            let deadline = Instant::now() + window;
            let mut n = 1;
            while Instant::now() < deadline {
                small_change(&mut doc, n)?;
                let made = Instant::now();
                peer::push(&mut peer, &id, &mut doc, &mut state).await?;
                if made < deadline {
                    latencies.push(made.elapsed().as_secs_f64() * 1000.0);
                }
                n += 1;
            }
            peer.close().await;
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    start.wait().await;
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a client task")??);
    }
    // Changes made before the deadline count, so the time runs until the last one is answered.
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(Throughput { clients: targets.len(), changes: latencies.len(), seconds, latencies })
}

async fn first_change(peer: &mut Peer) -> Result<(String, AutoCommit, sync::State)> {
    let id = wire::document_id(uuid::Uuid::new_v4());
    let mut doc = AutoCommit::new();
    let mut state = sync::State::new();
    small_change(&mut doc, 0)?;
    peer::push(peer, &id, &mut doc, &mut state).await?;
    Ok((id, doc, state))
}

/// A device's documents as this client keeps them between connections.
pub struct Documents {
    docs: Vec<(String, AutoCommit)>,
}

/// Creates `count` documents of `changes` small changes each and stores them on the server.
pub async fn upload_documents(target: &Target, count: usize, changes: u64) -> Result<Documents> {
    let mut docs = Vec::with_capacity(count);
    for _ in 0..count {
        let mut doc = AutoCommit::new();
        for n in 0..changes.max(1) {
            small_change(&mut doc, n)?;
        }
        docs.push((wire::document_id(uuid::Uuid::new_v4()), doc));
    }
    let mut documents = Documents { docs };
    documents.sync_all(target).await?;
    Ok(documents)
}

impl Documents {
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Connects with fresh sync states, offers every document at once and returns when the
    /// server has confirmed the heads of each; the time taken includes the connection.
    pub async fn sync_all(&mut self, target: &Target) -> Result<Duration> {
        let started = Instant::now();
        let mut peer = Peer::connect(target).await?;
        let mut states: Vec<sync::State> = self.docs.iter().map(|_| sync::State::new()).collect();
        let index: HashMap<String, usize> = self.docs.iter().enumerate().map(|(i, (id, _))| (id.clone(), i)).collect();
        for ((id, doc), state) in self.docs.iter_mut().zip(&mut states) {
            if let Some(message) = doc.sync().generate_sync_message(state) {
                peer.send_sync(id, message.encode()).await?;
            }
        }
        let mut waiting = self.docs.len();
        let mut confirmed = vec![false; self.docs.len()];
        while waiting > 0 {
            let message = peer.next().await?;
            let Some(&i) = message.document_id().and_then(|id| index.get(id)) else { continue };
            let (id, doc) = &mut self.docs[i];
            peer::answer(&mut peer, id, doc, &mut states[i], message).await?;
            if !confirmed[i] && states[i].their_heads.as_ref() == Some(&doc.get_heads()) {
                confirmed[i] = true;
                waiting -= 1;
            }
        }
        let elapsed = started.elapsed();
        peer.close().await;
        Ok(elapsed)
    }
}
