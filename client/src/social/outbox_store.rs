//! The outbox's rows in the social cache: the writes made on this device that the server has not
//! confirmed yet, in the order they were made (`cache.rs` holds the rest of the cache).

use serde_json::Value;
use sqlx::Row;

use super::cache::{Cache, now_ms};
use super::{OutboxItem, Write};
use crate::error::Result;

impl Cache {
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
