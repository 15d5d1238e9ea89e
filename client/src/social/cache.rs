//! The social cache and outbox of one account (`social-<user id>.sqlite`): what the server said
//! (meetups, comments, chat messages, notices) so it reads offline, and the writes waiting for the
//! server. Messages are kept once each by id and by (room, seq), so a replay after a reconnect
//! never shows a duplicate (`chat_store.rs` holds a room's messages, notice and replay mark,
//! `outbox_store.rs` the outbox).

use std::path::Path;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use mingizuk_core::region::province_pattern;

use super::MeetupId;
use crate::error::Result;

/// A page of the newest meetups as the server listed it: whether it is the first and the last.
pub(crate) struct Page<'a> {
    pub items: &'a [Value],
    pub first: bool,
    pub last: bool,
}

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
    pub(super) pool: SqlitePool,
}

/// Ids as a JSON array, for `json_each` in SQL.
fn json_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn now_ms() -> i64 {
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

    /// Caches a meetup as its detail or a write's answer shows it.
    pub(crate) async fn put_meetup(&self, meetup: &Value) -> Result<()> {
        self.upsert_meetup(meetup, None).await
    }

    /// Caches a meetup as a list asked for at `asked_at` shows it. A list item has no `members`:
    /// those of the cached detail are kept while the number of members is the same (without them
    /// a joined meetup opened offline would offer to join again). A row cached after `asked_at` (a
    /// detail read or a write confirmed while the list was on its way) is fresher and stays.
    pub(crate) async fn put_listed(&self, meetup: &Value, asked_at: i64) -> Result<()> {
        self.upsert_meetup(meetup, Some(asked_at)).await
    }

    async fn upsert_meetup(&self, meetup: &Value, asked_at: Option<i64>) -> Result<()> {
        let Some(id) = meetup["id"].as_i64() else { return Ok(()) };
        sqlx::query(
            "INSERT INTO meetups (id, body, region, like_count, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET
                 body = CASE
                     WHEN json_type(excluded.body, '$.members') IS NULL
                         AND json_type(meetups.body, '$.members') = 'array'
                         AND json_extract(meetups.body, '$.member_count')
                             IS json_extract(excluded.body, '$.member_count')
                     THEN json_set(excluded.body, '$.members', json(json_extract(meetups.body, '$.members')))
                     ELSE excluded.body END,
                 region = excluded.region, like_count = excluded.like_count, fetched_at = excluded.fetched_at
             WHERE ?6 IS NULL OR meetups.fetched_at < ?6",
        )
        .bind(id)
        .bind(meetup.to_string())
        .bind(meetup["region"].as_str().unwrap_or(""))
        .bind(meetup["like_count"].as_i64().unwrap_or(0))
        .bind(now_ms())
        .bind(asked_at)
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
            "DELETE FROM replay_marks WHERE meetup_id = ?",
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
            "SELECT body FROM meetups WHERE ?1 IS NULL OR region = ?1 OR region LIKE ?2 ESCAPE '!'
             ORDER BY like_count DESC, id DESC"
        } else {
            "SELECT body FROM meetups WHERE ?1 IS NULL OR region = ?1 OR region LIKE ?2 ESCAPE '!' ORDER BY id DESC"
        };
        let pattern = region.map(province_pattern);
        let rows = sqlx::query(query).bind(region).bind(pattern).fetch_all(&self.pool).await?;
        Ok(rows.iter().filter_map(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()).collect())
    }

    pub(crate) async fn put_comments(&self, meetup: MeetupId, comments: &[Value]) -> Result<()> {
        self.put_comments_listed(meetup, comments, Listed::Some, 0).await
    }

    /// Caches the comments of a fresh list of the meetup's comments (oldest first), asked for at
    /// `asked_at`, and forgets the cached ones it shows are gone: every other one when the list is
    /// `Listed::All`, else those up to its newest; never one cached after `asked_at` (the outbox
    /// confirmed it while the list was on its way).
    pub(crate) async fn put_comments_listed(
        &self,
        meetup: MeetupId,
        comments: &[Value],
        listed: Listed,
        asked_at: i64,
    ) -> Result<()> {
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
                 AND id NOT IN (SELECT value FROM json_each(?3)) AND fetched_at < ?4",
            )
            .bind(meetup)
            .bind(up_to)
            .bind(json_ids(&ids))
            .bind(asked_at)
            .execute(&mut *tx)
            .await?;
        }
        for comment in comments {
            let Some(id) = comment["id"].as_i64() else { continue };
            sqlx::query(
                "INSERT INTO comments (id, meetup_id, body, fetched_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
            )
            .bind(id)
            .bind(meetup)
            .bind(comment.to_string())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the cached meetups a fresh page of the newest meetups (of `region`, if given),
    /// asked for at `asked_at`, shows are gone: those in the page's range of ids that it does not
    /// list. The range runs from the page's last meetup (from the lowest id when it is the last
    /// page) to its first (to the highest when it is the first page). Spared: a meetup cached after
    /// `asked_at` (the outbox confirmed it meanwhile), and, on a page of one region, the user's own
    /// meetups (their cached region may be one they were moved from). Only the meetup's row goes:
    /// its chat stays until the meetup itself answers 404.
    pub(crate) async fn prune_newest(&self, region: Option<&str>, page: &Page<'_>, asked_at: i64) -> Result<()> {
        let ids: Vec<i64> = page.items.iter().filter_map(|m| m["id"].as_i64()).collect();
        let (newest, oldest) = match (ids.iter().max(), ids.iter().min()) {
            (Some(newest), Some(oldest)) => (Some(*newest), Some(*oldest)),
            // Nothing listed: only a whole list (one page, the first and the last) says anything.
            _ if page.first && page.last => (None, None),
            _ => return Ok(()),
        };
        sqlx::query(
            "DELETE FROM meetups WHERE (?1 IS NULL OR region = ?1 OR region LIKE ?2 ESCAPE '!')
             AND (?3 IS NULL OR id <= ?3) AND (?4 IS NULL OR id >= ?4)
             AND id NOT IN (SELECT value FROM json_each(?5)) AND fetched_at < ?6
             AND (?1 IS NULL OR id NOT IN (SELECT meetup_id FROM mine))",
        )
        .bind(region)
        .bind(region.map(province_pattern))
        .bind(newest.filter(|_| !page.first))
        .bind(oldest.filter(|_| !page.last))
        .bind(json_ids(&ids))
        .bind(asked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn forget_comment(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM comments WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Replaces the list of the user's meetups in `role`, asked for at `asked_at` (caching each
    /// meetup as `put_listed` does).
    pub(crate) async fn put_mine(&self, role: &str, meetups: &[Value], asked_at: i64) -> Result<()> {
        for meetup in meetups {
            self.put_listed(meetup, asked_at).await?;
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    async fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("social.sqlite")).await.unwrap();
        (dir, cache)
    }

    fn meetup(id: i64, region: &str) -> Value {
        json!({ "id": id, "region": region, "like_count": 0 })
    }

    async fn cached(cache: &Cache) -> Vec<i64> {
        cache.meetups(false, None).await.unwrap().iter().filter_map(|m| m["id"].as_i64()).collect()
    }

    const WHOLE_AND_EMPTY: Page<'static> = Page { items: &[], first: true, last: true };

    #[tokio::test]
    async fn a_fresh_list_spares_what_was_cached_after_it_was_asked_for() {
        let (_dir, cache) = cache().await;
        cache.put_meetup(&meetup(1, "서울특별시 강남구")).await.unwrap();
        cache.put_comments(7, &[json!({ "id": 70 })]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let asked_at = now_ms();
        // Confirmed by the outbox while the lists were on their way (they do not hold them).
        cache.put_meetup(&meetup(2, "서울특별시 강남구")).await.unwrap();
        cache.put_comments(7, &[json!({ "id": 71 })]).await.unwrap();
        cache.prune_newest(None, &WHOLE_AND_EMPTY, asked_at).await.unwrap();
        cache.put_comments_listed(7, &[], Listed::All, asked_at).await.unwrap();
        assert_eq!(cached(&cache).await, [2]);
        let comments: Vec<i64> = cache.comments(7).await.unwrap().iter().filter_map(|c| c["id"].as_i64()).collect();
        assert_eq!(comments, [71]);
    }

    #[tokio::test]
    async fn a_page_of_one_region_spares_the_users_own_meetups_and_takes_its_filter_literally() {
        let (_dir, cache) = cache().await;
        cache.put_mine("host", &[meetup(1, "서울특별시 강남구")], now_ms()).await.unwrap();
        cache.put_meetup(&meetup(2, "서울특별시 종로구")).await.unwrap();
        let asked_at = now_ms() + 1;
        // `_` is no wildcard: nothing of 서울특별시 is in "서울_별시".
        cache.prune_newest(Some("서울_별시"), &WHOLE_AND_EMPTY, asked_at).await.unwrap();
        assert_eq!(cached(&cache).await, [2, 1]);
        // The user's own meetup may have been moved out of the region since it was cached.
        cache.prune_newest(Some("서울특별시"), &WHOLE_AND_EMPTY, asked_at).await.unwrap();
        assert_eq!(cached(&cache).await, [1]);
    }

    fn detail(id: i64, member_count: i64, members: &[i64]) -> Value {
        let members: Vec<Value> = members.iter().map(|id| json!({ "id": id, "nickname": "밍기" })).collect();
        json!({ "id": id, "region": "서울특별시 강남구", "like_count": 0, "member_count": member_count, "members": members })
    }

    fn listed(id: i64, member_count: i64, title: &str) -> Value {
        json!({ "id": id, "region": "서울특별시 강남구", "like_count": 0, "member_count": member_count, "title": title })
    }

    #[tokio::test]
    async fn a_joined_meetup_opened_offline_after_a_list_refresh_still_knows_its_members() {
        let (_dir, cache) = cache().await;
        cache.put_meetup(&detail(1, 2, &[10, 11])).await.unwrap();
        cache.put_listed(&listed(1, 2, "renamed"), now_ms() + 1).await.unwrap();
        let body = cache.meetup(1).await.unwrap().unwrap();
        assert_eq!(body["title"], "renamed", "the list's fields are taken");
        assert_eq!(body["members"], json!([{ "id": 10, "nickname": "밍기" }, { "id": 11, "nickname": "밍기" }]));
        // Someone joined or left since: the members kept would be wrong, so none are.
        cache.put_listed(&listed(1, 3, "renamed"), now_ms() + 1).await.unwrap();
        let body = cache.meetup(1).await.unwrap().unwrap();
        assert!(body.get("members").is_none(), "{body}");
        // Through "my meetups" too.
        cache.put_meetup(&detail(1, 3, &[10, 11, 12])).await.unwrap();
        cache.put_mine("member", &[listed(1, 3, "again")], now_ms() + 1).await.unwrap();
        assert_eq!(cache.meetup(1).await.unwrap().unwrap()["members"].as_array().map(Vec::len), Some(3));
    }

    #[tokio::test]
    async fn a_list_asked_for_before_a_detail_was_read_does_not_replace_it() {
        let (_dir, cache) = cache().await;
        let asked_at = now_ms();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        // Read (after a join, say) while the list was on its way.
        cache.put_meetup(&detail(1, 3, &[10, 11, 12])).await.unwrap();
        cache.put_listed(&listed(1, 2, "stale"), asked_at).await.unwrap();
        cache.put_mine("member", &[listed(1, 2, "stale")], asked_at).await.unwrap();
        let body = cache.meetup(1).await.unwrap().unwrap();
        assert_eq!(body["member_count"], 3);
        assert_eq!(body["members"].as_array().map(Vec::len), Some(3));
        assert_eq!(cache.mine("member").await.unwrap().len(), 1, "still listed as the user's");
        // A list asked for later replaces it.
        cache.put_listed(&listed(1, 2, "fresh"), now_ms() + 1).await.unwrap();
        assert_eq!(cache.meetup(1).await.unwrap().unwrap()["title"], "fresh");
    }
}
