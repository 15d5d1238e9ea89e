//! MySQL: a group commit of chat messages in three round trips, however many messages and rooms
//! it holds: (1) begin, lock the meetups' rows, look up resends and read the senders' membership,
//! (2) advance every meetup's counter in one `UPDATE` and read the counters back, (3) one
//! multi-row `INSERT`, read back the ids, commit. Each round trip
//! is one text query of several statements (MySQL runs them in order and stops at the first
//! error). Text, not prepared statements: every batch has another shape, so preparing would add a
//! round trip per statement and churn the connection's statement cache. Values are written as
//! numbers or as hex string literals with a character set introducer, which mean the same in
//! every `sql_mode`, so no text typed by a user is ever parsed as SQL.
//!
//! Membership is read after the meetups' rows are locked, and a join or a leave writes its system
//! message through the same row (`insert_message` advances its counter), so a leave either
//! committed before this batch read membership (its sender's messages are refused) or comes after
//! this batch in the room's order: a message can never follow its sender's leave. The membership
//! read itself takes no lock (a leave holds its member row while it waits for the meetup's: a
//! locking read would deadlock with it).
//!
//! What becomes of each message is `chat_plan`'s, shared with SQLite; `insert_message` stays the
//! path for anything else (joins and leaves).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Row};

use crate::storage::chat::{MeetupId, NewMessage, Posted};
use crate::storage::chat_plan::{
    Plan, Rooms, STORED_COLUMNS, StoredBefore, StoredRow, counter_update, id_list, key, stored_by_key,
};
use crate::storage::now_millis;

/// Appends `text` as an SQL string literal: quoted as it is when it holds only letters, digits
/// and hyphens (ids), otherwise as `_utf8mb4 X'…'`.
fn push_text(sql: &mut String, text: &str) {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        let _ = write!(sql, "'{text}'");
        return;
    }
    sql.push_str("_utf8mb4 X'");
    for byte in text.bytes() {
        // Writing to a String cannot fail.
        let _ = write!(sql, "{byte:02X}");
    }
    sql.push('\'');
}

fn bad_row(e: impl std::fmt::Display) -> mysql_async::Error {
    mysql_async::Error::Other(format!("unexpected chat row: {e}").into())
}

fn rows<T: FromRow>(set: Vec<Row>) -> Result<Vec<T>, mysql_async::Error> {
    set.into_iter().map(|row| mysql_async::from_row_opt(row).map_err(bad_row)).collect()
}

/// Runs a query of several statements, reading every statement's answer (so an error in any, the
/// final `COMMIT` included, comes back here); the rows of each of its `SELECT`s, in order. The
/// answers of statements without rows do not always arrive as result sets of their own, so the
/// `SELECT`s are found by their columns, not by their places.
async fn run(conn: &mut Conn, sql: String) -> Result<Vec<Vec<Row>>, mysql_async::Error> {
    let mut result = conn.query_iter(sql).await?;
    let mut selected = Vec::new();
    while !result.is_empty() {
        let has_columns = !result.columns_ref().is_empty();
        let rows = result.collect::<Row>().await?;
        if has_columns {
            selected.push(rows);
        }
    }
    Ok(selected)
}

/// The rows of the one `SELECT` of a query run by `run`.
fn only(mut sets: Vec<Vec<Row>>) -> Result<Vec<Row>, mysql_async::Error> {
    match (sets.pop(), sets.is_empty()) {
        (Some(rows), true) => Ok(rows),
        _ => Err(bad_row("not the one result set expected")),
    }
}

/// Appends `batch` in one transaction of its own, in order (each meetup's messages get its next
/// sequence numbers in the order given): committed and what became of each, or `None` (rolled
/// back, nothing stored) if one of its meetups is gone. On an error the transaction is rolled back.
pub(super) async fn commit_batch(
    conn: &mut Conn,
    batch: &[NewMessage<'_>],
) -> Result<Option<Vec<Posted>>, mysql_async::Error> {
    let result = write_batch(conn, batch).await;
    if !matches!(result, Ok(Some(_))) {
        // Best effort: a connection that cannot roll back is broken and the server rolls back.
        let _ = conn.query_drop("ROLLBACK").await;
    }
    result
}

async fn write_batch(conn: &mut Conn, batch: &[NewMessage<'_>]) -> Result<Option<Vec<Posted>>, mysql_async::Error> {
    let Some((stored, rooms)) = begin(conn, batch).await? else { return Ok(None) };
    let now = now_millis();
    let mut plan = Plan::new(batch, &stored, &rooms, now);
    let mut ids = HashMap::new();
    if plan.counts().is_empty() {
        conn.query_drop("COMMIT").await?;
    } else {
        let Some(last) = advance_counters(conn, plan.counts()).await? else { return Ok(None) };
        if !plan.number(batch, last) {
            return Ok(None);
        }
        ids = insert_and_commit(conn, batch, &plan, now).await?;
    }
    plan.outcome(batch, &stored, ids, now).map(Some).map_err(|e| mysql_async::Error::Other(e.to_string().into()))
}

/// Round trip 1: begins the transaction, locks the batch's meetups' rows (in key order, as round
/// trip 2 updates them), then reads the messages of `batch` whose (sender, client id) is already
/// stored and the senders' membership. `None` if one of the meetups is gone.
async fn begin(conn: &mut Conn, batch: &[NewMessage<'_>]) -> Result<Option<(StoredBefore, Rooms)>, mysql_async::Error> {
    let meetups: BTreeSet<MeetupId> = batch.iter().map(|new| new.meetup_id).collect();
    let within = id_list(meetups.iter().copied());
    let mut sql = format!(
        "START TRANSACTION; SELECT id, host_user_id, ends_at FROM meetups WHERE id IN ({within}) ORDER BY id FOR UPDATE; \
         SELECT {STORED_COLUMNS} FROM chat_messages c LEFT JOIN users u ON u.id = c.sender_user_id WHERE FALSE"
    );
    // A disjunction of point lookups: both MySQL and MariaDB read it through the unique index,
    // which a row-constructor IN does not promise on every version.
    for (sender, client) in batch.iter().filter_map(key) {
        sql.push_str(" OR (c.sender_user_id = ");
        push_text(&mut sql, &sender);
        sql.push_str(" AND c.client_id = ");
        push_text(&mut sql, &client);
        sql.push(')');
    }
    let _ = write!(
        sql,
        "; SELECT mm.meetup_id, mm.user_id FROM meetup_members mm JOIN users u ON u.id = mm.user_id \
         WHERE u.deleted_at IS NULL AND mm.meetup_id IN ({within}) AND mm.user_id IN ("
    );
    let senders: BTreeSet<String> = batch.iter().map(|new| new.sender.id.to_db()).collect();
    for (i, sender) in senders.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        push_text(&mut sql, sender);
    }
    sql.push(')');
    let Ok([locked, found, members]) = <[Vec<Row>; 3]>::try_from(run(conn, sql).await?) else {
        return Err(bad_row("not the three result sets expected"));
    };
    let locked: HashMap<MeetupId, (String, i64)> =
        rows::<(i64, String, i64)>(locked)?.into_iter().map(|(id, host, ends_at)| (id, (host, ends_at))).collect();
    if locked.len() != meetups.len() {
        return Ok(None);
    }
    let members: HashSet<(MeetupId, String)> = rows::<(i64, String)>(members)?.into_iter().collect();
    Ok(Some((stored_by_key(rows::<StoredRow>(found)?), Rooms { meetups: locked, members })))
}

/// Round trip 2: advances each meetup's counter by its count of new messages (rows locked in key
/// order) and reads them back: each meetup's last sequence number now, or `None` if one is gone.
async fn advance_counters(
    conn: &mut Conn,
    counts: &BTreeMap<MeetupId, i64>,
) -> Result<Option<BTreeMap<MeetupId, i64>>, mysql_async::Error> {
    let mut sql = counter_update(counts);
    let _ = write!(sql, "; SELECT id, chat_seq FROM meetups WHERE id IN ({})", id_list(counts.keys().copied()));
    let last: BTreeMap<MeetupId, i64> = rows::<(i64, i64)>(only(run(conn, sql).await?)?)?.into_iter().collect();
    Ok((last.len() == counts.len()).then_some(last))
}

/// Round trip 3: one multi-row insert of the plan's new messages, their ids and their senders'
/// nicknames read back by (meetup, seq), and the commit.
async fn insert_and_commit(
    conn: &mut Conn,
    batch: &[NewMessage<'_>],
    plan: &Plan,
    now: i64,
) -> Result<HashMap<(MeetupId, i64), (i64, Option<String>)>, mysql_async::Error> {
    let mut sql = String::with_capacity(64 + batch.len() * 400);
    sql.push_str(
        "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at) VALUES ",
    );
    for (i, (new, seq)) in plan.new_messages(batch).enumerate() {
        let _ = write!(sql, "{}({}, {seq}, {}, ", if i == 0 { "" } else { ", " }, new.meetup_id, new.kind.to_db());
        push_text(&mut sql, &new.sender.id.to_db());
        sql.push_str(", ");
        match new.client_id {
            Some(client) => push_text(&mut sql, &client.hyphenated().to_string()),
            None => sql.push_str("NULL"),
        }
        sql.push_str(", ");
        push_text(&mut sql, new.text);
        let _ = write!(sql, ", {now})");
    }
    // Read back with each sender's nickname as it is now: a rename shows on the next message.
    sql.push_str(
        "; SELECT c.meetup_id, c.seq, c.id, u.nickname FROM chat_messages c \
         LEFT JOIN users u ON u.id = c.sender_user_id WHERE ",
    );
    for (i, (meetup, from, last)) in plan.ranges().enumerate() {
        let or = if i == 0 { "" } else { " OR " };
        let _ = write!(sql, "{or}(c.meetup_id = {meetup} AND c.seq BETWEEN {from} AND {last})");
    }
    sql.push_str("; COMMIT");
    let read: Vec<(i64, i64, i64, Option<String>)> = rows(only(run(conn, sql).await?)?)?;
    Ok(read.into_iter().map(|(meetup, seq, id, nickname)| ((meetup, seq), (id, nickname))).collect())
}

#[cfg(test)]
mod tests {
    use super::push_text;

    #[test]
    fn text_a_user_typed_becomes_a_hex_literal_and_ids_stay_readable() {
        let mut sql = String::new();
        push_text(&mut sql, "a'); DROP TABLE users; --");
        assert_eq!(sql, "_utf8mb4 X'6127293B2044524F50205441424C452075736572733B202D2D'");
        let mut sql = String::new();
        push_text(&mut sql, "안\\");
        assert_eq!(sql, "_utf8mb4 X'EC95885C'");
        let mut sql = String::new();
        push_text(&mut sql, "6f1c2a1e-0b7d-4c1a-9e2f-3a4b5c6d7e8f");
        assert_eq!(sql, "'6f1c2a1e-0b7d-4c1a-9e2f-3a4b5c6d7e8f'");
    }
}
