//! SQLite: the chat writer's transaction in a fixed number of statements, however many messages
//! and rooms it holds: the batch's meetups, the messages already stored under its (sender, client
//! id) pairs, the senders' membership, one `UPDATE` advancing every meetup's counter, and a
//! multi-row `INSERT` (in slices of `INSERT_ROWS`). Through sqlx every statement is a round trip to
//! the connection's worker thread; a message-by-message path costs three or four of them per
//! message, which bounded SQLite's chat rate.
//!
//! The caller holds SQLite's write lock (`BEGIN IMMEDIATE`) for the whole transaction, so no leave
//! can commit between the membership read and the insert: a message never follows its sender's
//! leave. What becomes of each message is `chat_plan`'s, shared with MySQL.
//!
//! User text is always bound, never written into the SQL; only numbers the server made and
//! placeholders are (which is what each `AssertSqlSafe` below vouches for).
//! Shapes differ from batch to batch, so these statements are not kept in the connection's
//! statement cache (`persistent(false)`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use sqlx::{AssertSqlSafe, SqliteConnection};

use super::backend;
use crate::storage::batches::placeholders;
use crate::storage::chat::{MeetupId, NewMessage, Posted};
use crate::storage::chat_plan::{
    Plan, Rooms, STORED_COLUMNS, StoredBefore, StoredRow, counter_update, id_list, key, stored_by_key,
};
use crate::storage::{StorageError, now_millis};

/// New messages per `INSERT` statement: three bound values each, well under SQLite's limit of
/// 32 766 bound values per statement.
const INSERT_ROWS: usize = 1000;

/// Stores `batch` in the caller's write transaction, in order (each meetup's messages get its
/// next sequence numbers in the order given), and says what became of each. `UnknownMeetup`
/// (the caller rolls back) if one of its meetups is gone.
pub(super) async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[NewMessage<'_>],
) -> Result<Vec<Posted>, StorageError> {
    let meetups: BTreeSet<MeetupId> = batch.iter().map(|new| new.meetup_id).collect();
    let rooms = rooms(conn, batch, &meetups).await?;
    if rooms.meetups.len() != meetups.len() {
        return Err(StorageError::UnknownMeetup);
    }
    let stored = stored_before(conn, batch).await?;
    let now = now_millis();
    let mut plan = Plan::new(batch, &stored, &rooms, now);
    let mut ids = HashMap::new();
    if !plan.counts().is_empty() {
        let last = advance_counters(conn, plan.counts()).await?;
        if !plan.number(batch, last) {
            return Err(StorageError::UnknownMeetup);
        }
        let new: Vec<(&NewMessage<'_>, i64)> = plan.new_messages(batch).collect();
        for rows in new.chunks(INSERT_ROWS) {
            insert(conn, rows, now, &mut ids).await?;
        }
    }
    plan.outcome(batch, &stored, ids, now)
}

/// The batch's meetups (host and end) and which senders are members of which (with accounts not in
/// their deletion grace).
async fn rooms(
    conn: &mut SqliteConnection,
    batch: &[NewMessage<'_>],
    meetups: &BTreeSet<MeetupId>,
) -> Result<Rooms, StorageError> {
    let within = id_list(meetups.iter().copied());
    let sql = format!("SELECT id, host_user_id, ends_at FROM meetups WHERE id IN ({within})");
    let found: Vec<(i64, String, i64)> =
        sqlx::query_as(AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *conn).await.map_err(backend)?;
    let senders: BTreeSet<String> = batch.iter().map(|new| new.sender.id.to_db()).collect();
    let sql = format!(
        "SELECT mm.meetup_id, mm.user_id FROM meetup_members mm JOIN users u ON u.id = mm.user_id \
         WHERE u.deleted_at IS NULL AND mm.meetup_id IN ({within}) AND mm.user_id IN ({})",
        placeholders("?", senders.len())
    );
    let mut query = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
    for sender in &senders {
        query = query.bind(sender.as_str());
    }
    let members: Vec<(i64, String)> = query.fetch_all(&mut *conn).await.map_err(backend)?;
    Ok(Rooms {
        meetups: found.into_iter().map(|(id, host, ends_at)| (id, (host, ends_at))).collect(),
        members: members.into_iter().collect::<HashSet<_>>(),
    })
}

/// The messages of `batch` whose (sender, client id) is already stored. Each pair is looked up
/// through the unique index (a join from the pairs; a disjunction of thousands of pairs would be
/// deeper than SQLite's expression limit, and a row-value `IN` scans the table).
async fn stored_before(conn: &mut SqliteConnection, batch: &[NewMessage<'_>]) -> Result<StoredBefore, StorageError> {
    let keys: Vec<(String, String)> = batch.iter().filter_map(key).collect();
    if keys.is_empty() {
        return Ok(StoredBefore::new());
    }
    let sql = format!(
        "WITH k (sender, client) AS (VALUES {}) SELECT {STORED_COLUMNS} FROM k \
         CROSS JOIN chat_messages c ON c.sender_user_id = k.sender AND c.client_id = k.client \
         LEFT JOIN users u ON u.id = c.sender_user_id",
        placeholders("(?, ?)", keys.len())
    );
    let mut query = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
    for (sender, client) in &keys {
        query = query.bind(sender.as_str()).bind(client.as_str());
    }
    let rows: Vec<StoredRow> = query.fetch_all(&mut *conn).await.map_err(backend)?;
    Ok(stored_by_key(rows))
}

/// Advances each meetup's counter by its count of new messages: each one's last sequence number now.
async fn advance_counters(
    conn: &mut SqliteConnection,
    counts: &BTreeMap<MeetupId, i64>,
) -> Result<BTreeMap<MeetupId, i64>, StorageError> {
    let sql = counter_update(counts) + " RETURNING id, chat_seq";
    let last: Vec<(i64, i64)> =
        sqlx::query_as(AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *conn).await.map_err(backend)?;
    Ok(last.into_iter().collect())
}

/// Inserts `rows` (new messages with their sequence numbers) at `now`; adds each one's id and its
/// sender's nickname as it is now (a rename shows on the next message) to `ids` by (meetup, seq).
async fn insert(
    conn: &mut SqliteConnection,
    rows: &[(&NewMessage<'_>, i64)],
    now: i64,
    ids: &mut HashMap<(MeetupId, i64), (i64, Option<String>)>,
) -> Result<(), StorageError> {
    let mut sql = String::from(
        "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at) VALUES ",
    );
    for (i, (new, seq)) in rows.iter().enumerate() {
        let comma = if i == 0 { "" } else { ", " };
        let _ = write!(sql, "{comma}({}, {seq}, {}, ?, ?, ?, {now})", new.meetup_id, new.kind.to_db());
    }
    sql.push_str(" RETURNING meetup_id, seq, id, (SELECT nickname FROM users WHERE id = sender_user_id)");
    let texts: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|(new, _)| (new.sender.id.to_db(), new.client_id.map(|c| c.hyphenated().to_string())))
        .collect();
    let mut query = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
    for ((sender, client), (new, _)) in texts.iter().zip(rows) {
        query = query.bind(sender.as_str()).bind(client.as_deref()).bind(new.text);
    }
    let inserted: Vec<(i64, i64, i64, Option<String>)> = query.fetch_all(&mut *conn).await.map_err(backend)?;
    ids.extend(inserted.into_iter().map(|(meetup, seq, id, nickname)| ((meetup, seq), (id, nickname))));
    Ok(())
}
