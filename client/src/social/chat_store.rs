//! A room's rows in the social cache: its chat messages (kept once each, by id and by seq), its
//! notice, and its replay mark — where the live stream resumes. The mark moves only with messages
//! the chat connection received in order, each one right after it; history pages, cached out of
//! order, never move it, so a replay cut short resumes where it stopped (`cache.rs` holds the
//! rest of the cache).

use serde_json::Value;
use sqlx::Row;

use super::cache::Cache;
use super::{ChatMessage, MeetupId};
use crate::error::Result;

/// Keeps a message unless it is known already; returns whether it was new.
async fn insert_message(conn: &mut sqlx::SqliteConnection, message: &ChatMessage) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO messages (meetup_id, seq, id, client_id, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(message.meetup_id)
    .bind(message.seq)
    .bind(message.id)
    .bind(message.client_id.as_deref())
    .bind(serde_json::to_string(message).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Cache {
    /// Keeps a message unless it is known already; returns whether it was new. For a message that
    /// did not come down the room's live stream (a history page): the replay mark stays.
    pub(crate) async fn put_message(&self, message: &ChatMessage) -> Result<bool> {
        insert_message(&mut *self.pool.acquire().await?, message).await
    }

    /// Keeps a message received on the room's live stream (replayed or live) and moves the room's
    /// replay mark to it if it comes right after the mark (a room without one starts at 0), known
    /// already or not; returns whether it was new. The server numbers a room's messages 1, 2, 3, …
    /// and sends a subscription's messages in order from where it was asked to start, so a message
    /// that skips past the mark came some other way and leaves the mark where it is.
    pub(crate) async fn put_streamed(&self, message: &ChatMessage) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let new = insert_message(&mut tx, message).await?;
        let mark: Option<i64> = sqlx::query_scalar("SELECT seq FROM replay_marks WHERE meetup_id = ?")
            .bind(message.meetup_id)
            .fetch_optional(&mut *tx)
            .await?;
        if mark.unwrap_or(0) + 1 == message.seq {
            sqlx::query(
                "INSERT INTO replay_marks (meetup_id, seq) VALUES (?, ?)
                 ON CONFLICT (meetup_id) DO UPDATE SET seq = excluded.seq",
            )
            .bind(message.meetup_id)
            .bind(message.seq)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Where the room's live stream resumes (a subscribe asks for what comes after it); `None` for
    /// a room never subscribed.
    pub(crate) async fn replay_mark(&self, meetup: MeetupId) -> Result<Option<i64>> {
        let mark = sqlx::query_scalar("SELECT seq FROM replay_marks WHERE meetup_id = ?")
            .bind(meetup)
            .fetch_optional(&self.pool)
            .await?;
        Ok(mark)
    }

    /// Starts the room's live stream after `seq` (the top of its newest page, on its first open),
    /// unless it has a mark already; returns the mark.
    pub(crate) async fn start_replay_after(&self, meetup: MeetupId, seq: i64) -> Result<i64> {
        sqlx::query("INSERT INTO replay_marks (meetup_id, seq) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(meetup)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(self.replay_mark(meetup).await?.unwrap_or(seq))
    }

    /// The lowest seq of the unbroken run of cached messages that reaches the room's newest cached
    /// one: the history just below it is what scrolling up needs next (`None`: nothing cached).
    pub(crate) async fn unbroken_from(&self, meetup: MeetupId) -> Result<Option<i64>> {
        let seq = sqlx::query_scalar(
            "SELECT MIN(seq) FROM messages WHERE meetup_id = ?1 AND seq > COALESCE(
                 (SELECT MAX(m.seq) FROM messages m
                  WHERE m.meetup_id = ?1 AND m.seq < (SELECT MAX(seq) FROM messages WHERE meetup_id = ?1)
                  AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.meetup_id = ?1 AND n.seq = m.seq + 1)),
                 -9223372036854775808)",
        )
        .bind(meetup)
        .fetch_one(&self.pool)
        .await?;
        Ok(seq)
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(meetup: MeetupId, seq: i64) -> ChatMessage {
        ChatMessage {
            meetup_id: meetup,
            seq,
            id: meetup * 100_000 + seq,
            client_id: None,
            kind: "text".into(),
            sender: None,
            text: format!("메시지 {seq}"),
            at: "2026-11-02T00:00:00Z".into(),
        }
    }

    async fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("social.sqlite")).await.unwrap();
        (dir, cache)
    }

    #[tokio::test]
    async fn the_replay_mark_follows_the_live_stream_in_order_and_never_a_history_page() {
        let (_dir, cache) = cache().await;
        assert_eq!(cache.replay_mark(7).await.unwrap(), None, "never subscribed");
        for seq in 1..=2 {
            assert!(cache.put_streamed(&message(7, seq)).await.unwrap());
        }
        assert_eq!(cache.replay_mark(7).await.unwrap(), Some(2));
        // The newest page, fetched while the replay runs: cached, the mark stays.
        for seq in 51..=60 {
            cache.put_message(&message(7, seq)).await.unwrap();
        }
        assert_eq!(cache.replay_mark(7).await.unwrap(), Some(2));
        assert!(cache.put_streamed(&message(7, 9)).await.unwrap());
        assert_eq!(cache.replay_mark(7).await.unwrap(), Some(2), "a message past a hole leaves the mark");
        for seq in 3..=60 {
            cache.put_streamed(&message(7, seq)).await.unwrap();
        }
        assert_eq!(cache.replay_mark(7).await.unwrap(), Some(60), "messages known already move it too");
        assert_eq!(cache.messages(7).await.unwrap().len(), 60, "each kept once");
        assert_eq!(cache.start_replay_after(7, 500).await.unwrap(), 60, "a mark there stays");
        assert_eq!(cache.start_replay_after(8, 500).await.unwrap(), 500);
        cache.forget_meetup(7).await.unwrap();
        assert_eq!(cache.replay_mark(7).await.unwrap(), None);
    }

    #[tokio::test]
    async fn scrolling_up_starts_below_the_unbroken_run_at_the_newest_end() {
        let (_dir, cache) = cache().await;
        assert_eq!(cache.unbroken_from(7).await.unwrap(), None);
        for seq in (1..=3).chain(7..=9) {
            cache.put_message(&message(7, seq)).await.unwrap();
        }
        assert_eq!(cache.unbroken_from(7).await.unwrap(), Some(7), "the hole 4–6 comes first");
        for seq in 4..=6 {
            cache.put_message(&message(7, seq)).await.unwrap();
        }
        assert_eq!(cache.unbroken_from(7).await.unwrap(), Some(1));
    }

    #[tokio::test]
    async fn a_cache_from_before_replay_marks_resumes_after_its_first_unbroken_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("social.sqlite");
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate!("./migrations-social").run_to(4, &pool).await.unwrap();
        // Room 7: a replay cut after seq 3, and the newest page 7–9 fetched meanwhile. Room 8: only
        // its newest page.
        for (meetup, seq) in [(7, 1), (7, 2), (7, 3), (7, 7), (7, 8), (7, 9), (8, 5), (8, 6)] {
            sqlx::query("INSERT INTO messages (meetup_id, seq, id, body) VALUES (?, ?, ?, '{}')")
                .bind(meetup)
                .bind(seq)
                .bind(meetup * 100 + seq)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
        let cache = Cache::open(&path).await.unwrap();
        assert_eq!(cache.replay_mark(7).await.unwrap(), Some(3), "the hole 4–6 is replayed");
        assert_eq!(cache.replay_mark(8).await.unwrap(), Some(6), "what is below the page comes by scrolling");
        assert_eq!(cache.replay_mark(9).await.unwrap(), None);
    }
}
