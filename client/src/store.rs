//! The device's SQLite database: documents as append-only chunks, the completions read from log
//! documents, and the per-day projection. Every write of the engine is one `Batch` committed in
//! one transaction, so a change, its chunk and its projection land together or not at all.
//!
//! Durability: WAL with `synchronous = FULL`, so a transaction is on disk when `commit` returns
//! (NORMAL would be faster but may lose the last commits on power loss, and the engine promises
//! that a completed action survives).

use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use mingizuk_core::fold::DayTotals;
use mingizuk_core::model::{ActionCompletion, RoutineCompletion};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection};
use uuid::Uuid;

use crate::error::{ClientError, Result};

/// The meta key holding the highest chunk row as of this build's last commit
/// ([`Store::chunks_as_marked`]).
const CHUNK_MARK: &str = "chunk_mark";

/// A stored piece of a document.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub doc_id: Uuid,
    pub hash: String,
    pub snapshot: bool,
    pub bytes: Vec<u8>,
}

impl Chunk {
    pub fn incremental(doc_id: Uuid, bytes: Vec<u8>) -> Chunk {
        Chunk { doc_id, hash: hex::encode(Sha256::digest(&bytes)), snapshot: false, bytes }
    }

    pub fn snapshot(doc_id: Uuid, bytes: Vec<u8>) -> Chunk {
        Chunk { doc_id, hash: format!("s-{}", hex::encode(Sha256::digest(&bytes))), snapshot: true, bytes }
    }
}

/// What the device's database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StorageStats {
    pub documents: u64,
    pub chunks: u64,
    pub snapshots: u64,
}

/// One version of a completion as stored in a log document.
#[derive(Debug, Clone)]
pub enum LogEntry {
    Action(ActionCompletion),
    Routine(RoutineCompletion),
}

/// Everything one engine call writes, committed atomically.
#[derive(Debug, Default)]
pub struct Batch {
    /// Deletes every document, chunk, completion, projection row and the meta data (device id,
    /// account root) before the rest of the batch is written: a device starting over stores its
    /// new documents in the same transaction that removes the old ones.
    pub wipe: bool,
    pub new_docs: Vec<(Uuid, String)>,
    pub chunks: Vec<Chunk>,
    /// Chunks folded into a snapshot of this batch, deleted once the snapshot is stored.
    pub compacted: Vec<(Uuid, String)>,
    /// Log documents whose entries are replaced whole (after a merge).
    pub replaced_logs: Vec<(Uuid, Vec<LogEntry>)>,
    pub added_entries: Vec<(Uuid, LogEntry)>,
    pub days: Vec<(NaiveDate, Option<DayTotals>)>,
    pub meta: Vec<(&'static str, String)>,
    /// Documents that take a new id (old, new, kind): a device joining an account.
    pub renames: Vec<(Uuid, Uuid, String)>,
}

pub struct Store {
    conn: SqliteConnection,
}

impl Store {
    pub async fn open(path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let mut conn = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("./migrations").run(&mut conn).await?;
        Ok(Store { conn })
    }

    /// Whether the chunks are as this build's last commit left them: `None` for a database no
    /// commit of this build has marked yet. Every commit stores the highest chunk row it leaves
    /// (`CHUNK_MARK`); a change stored by anything else — an older build run on the same data
    /// folder, which neither counts its writes nor moves the mark — adds a higher row (a
    /// compaction stores its snapshot before it deletes what it folds).
    pub async fn chunks_as_marked(&mut self) -> Result<Option<bool>> {
        let (mark, last): (Option<String>, i64) = sqlx::query_as(
            "SELECT (SELECT value FROM meta WHERE key = ?), (SELECT COALESCE(MAX(rowid), 0) FROM chunks)",
        )
        .bind(CHUNK_MARK)
        .fetch_one(&mut self.conn)
        .await?;
        Ok(mark.map(|m| m == last.to_string()))
    }

    pub async fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(&mut self.conn).await?)
    }

    /// The documents held, by id, with their kind labels.
    pub async fn documents(&mut self) -> Result<Vec<(Uuid, String)>> {
        let rows = sqlx::query("SELECT doc_id, kind FROM documents ORDER BY doc_id").fetch_all(&mut self.conn).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                Ok((Uuid::from_str(&id).map_err(|e| ClientError::corrupt(&id, e))?, r.get(1)))
            })
            .collect()
    }

    pub async fn chunks(&mut self, doc_id: Uuid) -> Result<Vec<Chunk>> {
        let rows =
            sqlx::query("SELECT hash, snapshot, bytes FROM chunks WHERE doc_id = ? ORDER BY snapshot DESC, hash")
                .bind(doc_id.to_string())
                .fetch_all(&mut self.conn)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| Chunk { doc_id, hash: r.get(0), snapshot: r.get::<i64, _>(1) != 0, bytes: r.get(2) })
            .collect())
    }

    pub async fn log_entries(&mut self) -> Result<Vec<(Uuid, LogEntry)>> {
        let rows = sqlx::query("SELECT doc_id, kind, body FROM log_entries").fetch_all(&mut self.conn).await?;
        rows.into_iter()
            .map(|r| {
                let id: String = r.get(0);
                let kind: String = r.get(1);
                let body: String = r.get(2);
                let bad = |e: serde_json::Error| ClientError::corrupt(&id, e);
                let entry = match kind.as_str() {
                    "action" => LogEntry::Action(serde_json::from_str(&body).map_err(bad)?),
                    _ => LogEntry::Routine(serde_json::from_str(&body).map_err(bad)?),
                };
                Ok((Uuid::from_str(&id).map_err(|e| ClientError::corrupt(&id, e))?, entry))
            })
            .collect()
    }

    /// Projected totals of the days in `from..=to`.
    pub async fn day_totals(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(NaiveDate, DayTotals)>> {
        let rows =
            sqlx::query("SELECT date, actions, routines, exp FROM day_totals WHERE date BETWEEN ? AND ? ORDER BY date")
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(&mut self.conn)
                .await?;
        rows.into_iter()
            .map(|r| {
                let date: String = r.get(0);
                let totals = DayTotals {
                    actions: r.get::<i64, _>(1) as u32,
                    routines: r.get::<i64, _>(2) as u32,
                    exp: r.get::<i64, _>(3) as u32,
                };
                Ok((NaiveDate::from_str(&date).map_err(|e| ClientError::corrupt("day_totals", e))?, totals))
            })
            .collect()
    }

    pub async fn all_day_totals(&mut self) -> Result<Vec<(NaiveDate, DayTotals)>> {
        self.day_totals(
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
        )
        .await
    }

    /// Commits a batch in one transaction; on error nothing of it is stored.
    pub async fn commit(&mut self, batch: &Batch) -> Result<()> {
        let mut tx = self.conn.begin().await?;
        if batch.wipe {
            for sql in [
                "DELETE FROM day_totals",
                "DELETE FROM log_entries",
                "DELETE FROM chunks",
                "DELETE FROM documents",
                "DELETE FROM meta",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
        }
        for (old, new, kind) in &batch.renames {
            sqlx::query("INSERT OR IGNORE INTO documents (doc_id, kind) VALUES (?, ?)")
                .bind(new.to_string())
                .bind(kind)
                .execute(&mut *tx)
                .await?;
            for sql in
                ["UPDATE chunks SET doc_id = ? WHERE doc_id = ?", "UPDATE log_entries SET doc_id = ? WHERE doc_id = ?"]
            {
                sqlx::query(sql).bind(new.to_string()).bind(old.to_string()).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM documents WHERE doc_id = ?").bind(old.to_string()).execute(&mut *tx).await?;
        }
        for (id, kind) in &batch.new_docs {
            sqlx::query("INSERT OR IGNORE INTO documents (doc_id, kind) VALUES (?, ?)")
                .bind(id.to_string())
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        for c in &batch.chunks {
            sqlx::query("INSERT OR IGNORE INTO chunks (doc_id, hash, snapshot, bytes) VALUES (?, ?, ?, ?)")
                .bind(c.doc_id.to_string())
                .bind(&c.hash)
                .bind(i64::from(c.snapshot))
                .bind(&c.bytes)
                .execute(&mut *tx)
                .await?;
        }
        for (id, hash) in &batch.compacted {
            sqlx::query("DELETE FROM chunks WHERE doc_id = ? AND hash = ?")
                .bind(id.to_string())
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        for (id, entries) in &batch.replaced_logs {
            sqlx::query("DELETE FROM log_entries WHERE doc_id = ?").bind(id.to_string()).execute(&mut *tx).await?;
            for entry in entries {
                insert_entry(&mut tx, *id, entry).await?;
            }
        }
        for (id, entry) in &batch.added_entries {
            insert_entry(&mut tx, *id, entry).await?;
        }
        for (date, totals) in &batch.days {
            match totals {
                Some(t) => {
                    sqlx::query("INSERT OR REPLACE INTO day_totals (date, actions, routines, exp) VALUES (?, ?, ?, ?)")
                        .bind(date.to_string())
                        .bind(i64::from(t.actions))
                        .bind(i64::from(t.routines))
                        .bind(i64::from(t.exp))
                        .execute(&mut *tx)
                        .await?
                }
                None => {
                    sqlx::query("DELETE FROM day_totals WHERE date = ?")
                        .bind(date.to_string())
                        .execute(&mut *tx)
                        .await?
                }
            };
        }
        for (key, value) in &batch.meta {
            sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT OR REPLACE INTO meta (key, value) \
             SELECT ?, CAST(COALESCE(MAX(rowid), 0) AS TEXT) FROM chunks",
        )
        .bind(CHUNK_MARK)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many documents and chunks (of which snapshots) are stored.
    pub async fn stats(&mut self) -> Result<StorageStats> {
        let (documents, chunks, snapshots): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks), \
             (SELECT COUNT(*) FROM chunks WHERE snapshot = 1)",
        )
        .fetch_one(&mut self.conn)
        .await?;
        Ok(StorageStats { documents: documents as u64, chunks: chunks as u64, snapshots: snapshots as u64 })
    }

    pub async fn close(self) -> Result<()> {
        self.conn.close().await?;
        Ok(())
    }
}

async fn insert_entry(tx: &mut SqliteConnection, doc_id: Uuid, entry: &LogEntry) -> Result<()> {
    let (key, at_ms, kind, body) = match entry {
        LogEntry::Action(c) => (c.key.encode(), c.moment.at_ms, "action", serde_json::to_string(c)),
        LogEntry::Routine(c) => (c.key.encode(), c.moment.at_ms, "routine", serde_json::to_string(c)),
    };
    let body = body.map_err(|e| ClientError::corrupt(doc_id, e))?;
    sqlx::query("INSERT OR IGNORE INTO log_entries (doc_id, key, at_ms, kind, body) VALUES (?, ?, ?, ?, ?)")
        .bind(doc_id.to_string())
        .bind(key)
        .bind(at_ms)
        .bind(kind)
        .bind(body)
        .execute(tx)
        .await?;
    Ok(())
}
