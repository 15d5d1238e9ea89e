//! The social cache and outbox of one account (`social-<user id>.sqlite`): what the server said
//! (meetups, comments, chat messages, notices) so it reads offline, and the writes waiting for the
//! server. Messages are kept once each by id and by (room, seq), so a replay after a reconnect
//! never shows a duplicate.

use std::path::Path;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{ChatMessage, MeetupId, OutboxItem, Write};
use crate::error::Result;

/// How much of a meetup's comments a list of them holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    /// Every comment there is.
    All,
    /// Every comment up to the newest it holds (the first pages of a longer list).
    Head,
    /// Only these (a comment just written or edited).
    Some,
}

#[derive(Clone)]
pub(crate) struct Cache {
    pool: SqlitePool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Cache {
    pub(crate) async fn open(path: &Path) -> Result<Cache> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // The outbox holds writes the user made: they survive a crash once queued.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await?;
        sqlx::migrate!("./migrations-social").run(&pool).await?;
        Ok(Cache { pool })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    // --- meetups and comments -------------------------------------------------------------------

    pub(crate) async fn put_meetup(&self, meetup: &Value) -> Result<()> {
        let Some(id) = meetup["id"].as_i64() else { return Ok(()) };
        sqlx::query(
            "INSERT INTO meetups (id, body, region, like_count, fetched_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, region = excluded.region,
                 like_count = excluded.like_count, fetched_at = excluded.fetched_at",
        )
        .bind(id)
        .bind(meetup.to_string())
        .bind(meetup["region"].as_str().unwrap_or(""))
        .bind(meetup["like_count"].as_i64().unwrap_or(0))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn forget_meetup(&self, id: MeetupId) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for statement in [
            "DELETE FROM meetups WHERE id = ?",
            "DELETE FROM comments WHERE meetup_id = ?",
            "DELETE FROM messages WHERE meetup_id = ?",
            "DELETE FROM notices WHERE meetup_id = ?",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn meetup(&self, id: MeetupId) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT body FROM meetups WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.and_then(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()))
    }

    /// The cached meetups, newest or most liked first, of a region (or a 시·도's regions).
    pub(crate) async fn meetups(&self, by_likes: bool, region: Option<&str>) -> Result<Vec<Value>> {
        let query = if by_likes {
            "SELECT body FROM meetups WHERE ?1 IS NULL OR region = ?1 OR region LIKE ?1 || ' %'
             ORDER BY like_count DESC, id DESC"
        } else {
            "SELECT body FROM meetups WHERE ?1 IS NULL OR region = ?1 OR region LIKE ?1 || ' %' ORDER BY id DESC"
        };
        let rows = sqlx::query(query).bind(region).fetch_all(&self.pool).await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect())
    }

    pub(crate) async fn put_comments(&self, meetup: MeetupId, comments: &[Value]) -> Result<()> {
        self.put_comments_listed(meetup, comments, Listed::Some).await
    }

    /// Caches the comments of a fresh list of the meetup's comments (oldest first) and forgets the
    /// cached ones it shows are gone: every other one when the list is `Listed::All`, else those
    /// up to its newest.
    pub(crate) async fn put_comments_listed(&self, meetup: MeetupId, comments: &[Value], listed: Listed) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<i64> = comments.iter().filter_map(|c| c["id"].as_i64()).collect();
        let up_to = match listed {
            Listed::All => Some(None),
            Listed::Head => ids.iter().max().map(|newest| Some(*newest)),
            Listed::Some => None,
        };
        if let Some(up_to) = up_to {
            sqlx::query(
                "DELETE FROM comments WHERE meetup_id = ?1 AND (?2 IS NULL OR id <= ?2)
                 AND id NOT IN (SELECT value FROM json_each(?3))",
            )
            .bind(meetup)
            .bind(up_to)
            .bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
            .execute(&mut *tx)
            .await?;
        }
        for comment in comments {
            let Some(id) = comment["id"].as_i64() else { continue };
            sqlx::query(
                "INSERT INTO comments (id, meetup_id, body) VALUES (?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            )
            .bind(id)
            .bind(meetup)
            .bind(comment.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the cached meetups a fresh page of the newest meetups (of `region`, if given) shows
    /// are gone: those in the page's range of ids that it does not list. The range runs from the
    /// page's last meetup (from the lowest id when it is the last page) to its first (to the
    /// highest when it is the first page). Only the meetup's row goes: its chat stays until the
    /// meetup itself answers 404.
    pub(crate) async fn prune_newest(
        &self,
        region: Option<&str>,
        page: &[Value],
        first: bool,
        last: bool,
    ) -> Result<()> {
        let ids: Vec<i64> = page.iter().filter_map(|m| m["id"].as_i64()).collect();
        let (Some(newest), Some(oldest)) = (ids.iter().max(), ids.iter().min()) else {
            if first && last {
                // Nothing at all is listed there.
                sqlx::query("DELETE FROM meetups WHERE ?1 IS NULL OR region = ?1 OR region LIKE ?1 || ' %'")
                    .bind(region)
                    .execute(&self.pool)
                    .await?;
            }
            return Ok(());
        };
        sqlx::query(
            "DELETE FROM meetups WHERE (?1 IS NULL OR region = ?1 OR region LIKE ?1 || ' %')
             AND (?2 IS NULL OR id <= ?2) AND (?3 IS NULL OR id >= ?3)
             AND id NOT IN (SELECT value FROM json_each(?4))",
        )
        .bind(region)
        .bind((!first).then_some(*newest))
        .bind((!last).then_some(*oldest))
        .bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn forget_comment(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM comments WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Replaces the list of the user's meetups in `role` (caching each meetup).
    pub(crate) async fn put_mine(&self, role: &str, meetups: &[Value]) -> Result<()> {
        for meetup in meetups {
            self.put_meetup(meetup).await?;
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM mine WHERE role = ?").bind(role).execute(&mut *tx).await?;
        for id in meetups.iter().filter_map(|m| m["id"].as_i64()) {
            sqlx::query("INSERT OR IGNORE INTO mine (role, meetup_id) VALUES (?, ?)")
                .bind(role)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user's meetups in `role` as last listed, newest first.
    pub(crate) async fn mine(&self, role: &str) -> Result<Vec<Value>> {
        let rows = sqlx::query(
            "SELECT m.body FROM mine JOIN meetups m ON m.id = mine.meetup_id WHERE mine.role = ? ORDER BY m.id DESC",
        )
        .bind(role)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect())
    }

    pub(crate) async fn comments(&self, meetup: MeetupId) -> Result<Vec<Value>> {
        let rows = sqlx::query("SELECT body FROM comments WHERE meetup_id = ? ORDER BY id")
            .bind(meetup)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect())
    }

    // --- chat -----------------------------------------------------------------------------------

    /// Keeps a message unless it is known already; returns whether it was new.
    pub(crate) async fn put_message(&self, message: &ChatMessage) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO messages (meetup_id, seq, id, client_id, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(message.meetup_id)
        .bind(message.seq)
        .bind(message.id)
        .bind(message.client_id.as_deref())
        .bind(serde_json::to_string(message).unwrap_or_default())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The highest sequence number seen in a room (0 for none): where a replay starts.
    pub(crate) async fn last_seq(&self, meetup: MeetupId) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE meetup_id = ?")
            .bind(meetup)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// A room's messages in sequence order.
    pub(crate) async fn messages(&self, meetup: MeetupId) -> Result<Vec<ChatMessage>> {
        let rows = sqlx::query("SELECT body FROM messages WHERE meetup_id = ? ORDER BY seq")
            .bind(meetup)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect())
    }

    pub(crate) async fn put_notice(&self, meetup: MeetupId, notice: &Value) -> Result<()> {
        let body = (!notice.is_null()).then(|| notice.to_string());
        sqlx::query(
            "INSERT INTO notices (meetup_id, body) VALUES (?, ?) ON CONFLICT (meetup_id) DO UPDATE SET body = excluded.body",
        )
        .bind(meetup)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn notice(&self, meetup: MeetupId) -> Result<Option<Value>> {
        let row =
            sqlx::query("SELECT body FROM notices WHERE meetup_id = ?").bind(meetup).fetch_optional(&self.pool).await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>(0)).and_then(|b| serde_json::from_str(&b).ok()))
    }

    // --- outbox ---------------------------------------------------------------------------------

    pub(crate) async fn enqueue(&self, key: &str, write: &Write) -> Result<()> {
        let (kind, method, path, body, meetup, text) = match write {
            Write::Http { kind, method, path, body } => {
                (kind.as_str(), method.as_str(), path.as_str(), body.as_ref().map(Value::to_string), None, None)
            }
            Write::Message { meetup_id, text } => ("message", "", "", None, Some(*meetup_id), Some(text.as_str())),
        };
        sqlx::query(
            "INSERT INTO outbox (key, kind, method, path, body, meetup_id, text, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key)
        .bind(kind)
        .bind(method)
        .bind(path)
        .bind(body)
        .bind(meetup)
        .bind(text)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every write not confirmed yet, oldest first; refused ones carry their reason.
    pub(crate) async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT key, kind, method, path, body, meetup_id, text, attempts, refused_code, refused_message, created_at,
                 sent_at
             FROM outbox ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(item_from_row).collect())
    }

    /// The oldest write still to send.
    pub(crate) async fn next_pending(&self) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(
            "SELECT key, kind, method, path, body, meetup_id, text, attempts, refused_code, refused_message, created_at,
                 sent_at
             FROM outbox WHERE refused_code IS NULL ORDER BY seq LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(item_from_row))
    }

    pub(crate) async fn done(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM outbox WHERE key = ?").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn attempted(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE key = ?").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    /// Notes that a write is about to leave for the first time: from now on it may have reached the
    /// server (the app may be killed before the answer comes).
    pub(crate) async fn sending(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET sent_at = COALESCE(sent_at, ?) WHERE key = ?")
            .bind(now_ms())
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes back [`Cache::sending`]: that first attempt never reached the server.
    pub(crate) async fn not_sent(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET sent_at = NULL WHERE key = ?").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn refused(&self, key: &str, code: &str, message: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET refused_code = ?, refused_message = ? WHERE key = ?")
            .bind(code)
            .bind(message)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn item_from_row(row: &sqlx::sqlite::SqliteRow) -> OutboxItem {
    let kind: String = row.get("kind");
    let write = match kind.as_str() {
        "message" => Write::Message {
            meetup_id: row.get::<Option<i64>, _>("meetup_id").unwrap_or_default(),
            text: row.get::<Option<String>, _>("text").unwrap_or_default(),
        },
        _ => Write::Http {
            kind,
            method: row.get("method"),
            path: row.get("path"),
            body: row.get::<Option<String>, _>("body").and_then(|b| serde_json::from_str(&b).ok()),
        },
    };
    let refused = row
        .get::<Option<String>, _>("refused_code")
        .map(|code| (code, row.get::<Option<String>, _>("refused_message").unwrap_or_default()));
    OutboxItem {
        key: row.get("key"),
        write,
        attempts: row.get::<i64, _>("attempts").try_into().unwrap_or(0),
        refused,
        created_at_ms: row.get("created_at"),
        sent_at_ms: row.get("sent_at"),
    }
}
