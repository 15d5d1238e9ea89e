//! SQLite: WAL checkpoints off the writers' path. With only `wal_autocheckpoint`, the commit that
//! fills the WAL copies all of it into the database file (and syncs that file) before its caller
//! hears back: under chat load that held the chat writer's round and every message waiting for it,
//! most of the latency's tail (with no checkpoint at all, the chat benchmark's p99 was 13 – 39 ms
//! against 37 – 54 ms). Here a task of its own copies what the writers committed (`PRAGMA
//! wal_checkpoint(PASSIVE)`, which takes no lock a writer waits for) a quarter of a second after
//! they write, and again while they go on writing. `wal_autocheckpoint` stays as the net (see
//! `WAL_CHECKPOINT_PAGES`): when the WAL reaches it, the committing writer copies only what came
//! after this task's last pass.
//!
//! When the writers have been quiet for `IDLE`, the task checkpoints once more and truncates the WAL
//! file to nothing (`TRUNCATE`): SQLite never shrinks the file otherwise, so after a burst of load
//! it would keep its largest size (up to the net's 128 MiB) for good. `TRUNCATE` waits for readers
//! and holds writers off while it runs, which is why it waits for a quiet moment; by then the
//! passes have copied everything, so it has nothing left to copy.
//!
//! Measured (`bench --bin chat`, SQLite, 1 000 clients, 4 000 sends/s, five runs alternating with
//! the build before): publish → receive p99 41 – 57 → 27 – 42 ms, lower in every pair; the same
//! ~10 kB written to disk per message (README, "Chat fan-out").

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::mpsc;

/// How long after a write the checkpoint runs, and the shortest time between two.
const AFTER: Duration = Duration::from_millis(250);
/// How long the writers stay quiet after a pass before the WAL file is truncated.
const IDLE: Duration = Duration::from_secs(5);
const PASSIVE: &str = "PRAGMA wal_checkpoint(PASSIVE)";
const TRUNCATE: &str = "PRAGMA wal_checkpoint(TRUNCATE)";

/// A writer's handle on the checkpoint task; the task ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Checkpoints(mpsc::Sender<()>);

impl Checkpoints {
    /// Starts the checkpoint task on the current Tokio runtime.
    pub(super) fn start(pool: SqlitePool) -> Self {
        // One slot: a write while a pass runs or waits is remembered once, and the next pass
        // follows at once.
        let (wrote, rx) = mpsc::channel(1);
        tokio::spawn(run(pool, rx));
        Self(wrote)
    }

    /// Tells the task that the writer wrote.
    pub(super) fn wrote(&self) {
        let _ = self.0.try_send(());
    }
}

async fn run(pool: SqlitePool, mut wrote: mpsc::Receiver<()>) {
    'quiet: while wrote.recv().await.is_some() {
        loop {
            tokio::time::sleep(AFTER).await;
            if pool.is_closed() {
                break 'quiet;
            }
            checkpoint(&pool, PASSIVE).await;
            match tokio::time::timeout(IDLE, wrote.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => break 'quiet,
                Err(_quiet) => {
                    if !pool.is_closed() {
                        checkpoint(&pool, TRUNCATE).await;
                    }
                    continue 'quiet;
                }
            }
        }
    }
}

/// Runs one `PRAGMA wal_checkpoint`; a failure is logged and left to the next one.
async fn checkpoint(pool: &SqlitePool, sql: &'static str) {
    let pass: Result<(i64, i64, i64), sqlx::Error> = sqlx::query_as(sql).fetch_one(pool).await;
    if let Err(e) = pass {
        tracing::warn!(error = %e, sql, "a WAL checkpoint failed; the next write tries again");
    }
}
