//! MySQL: the chat relay's group commit in a fixed number of round trips per batch (look up
//! resends, advance the meetup's counter by the number of new messages, one multi-row insert, read
//! back the ids) instead of four per message. Same results as appending the messages one by one
//! with `insert_message`, which stays the path for anything else.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Transaction, Value};

use super::chat::{Inserted, insert_message};
use crate::storage::chat::{ChatMessage, NewMessage};
use crate::storage::now_millis;

/// Larger batches (or batches for several meetups) go one message at a time.
const MAX_ROWS: usize = 1_000;

/// A (sender, client id) pair as stored.
type Key = (String, String);

fn key(new: &NewMessage<'_>) -> Option<Key> {
    new.client_id.map(|c| (new.sender.id.to_db(), c.hyphenated().to_string()))
}

fn time(millis: i64) -> chrono::DateTime<chrono::Utc> {
    // We wrote it; a value that cannot be read comes back as the epoch's start.
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// Appends `batch` inside the caller's transaction, in order; `None` if the meetup is gone.
pub(super) async fn insert_batch(
    tx: &mut Transaction<'_>,
    batch: &[NewMessage<'_>],
) -> Result<Option<Vec<Inserted>>, mysql_async::Error> {
    let Some(meetup) = batch.first().map(|n| n.meetup_id) else { return Ok(Some(Vec::new())) };
    if batch.len() > MAX_ROWS || batch.iter().any(|n| n.meetup_id != meetup) {
        let mut inserted = Vec::with_capacity(batch.len());
        for new in batch {
            match insert_message(tx, new).await? {
                Inserted::UnknownMeetup => return Ok(None),
                one => inserted.push(one),
            }
        }
        return Ok(Some(inserted));
    }
    let stored = stored_before(tx, batch).await?;
    // Each message is either stored before, a repeat of one earlier in this batch, or new.
    let mut first_of: HashMap<Key, usize> = HashMap::new();
    let mut fresh = Vec::new();
    for (index, new) in batch.iter().enumerate() {
        match key(new) {
            Some(k) if stored.contains_key(&k) || first_of.contains_key(&k) => {}
            Some(k) => {
                first_of.insert(k, index);
                fresh.push(index);
            }
            None => fresh.push(index),
        }
    }
    let now = now_millis();
    let mut ids: HashMap<i64, i64> = HashMap::new();
    let mut first_seq = 0;
    if !fresh.is_empty() {
        let count = fresh.len() as i64;
        tx.exec_drop("UPDATE meetups SET chat_seq = chat_seq + ? WHERE id = ?", (count, meetup)).await?;
        if tx.affected_rows() == 0 {
            return Ok(None);
        }
        let last: Option<i64> = tx.exec_first("SELECT chat_seq FROM meetups WHERE id = ?", (meetup,)).await?;
        let Some(last) = last else { return Ok(None) };
        first_seq = last - count + 1;
        let mut values: Vec<Value> = Vec::with_capacity(fresh.len() * 7);
        for (offset, &index) in fresh.iter().enumerate() {
            let new = &batch[index];
            values.extend([
                Value::from(meetup),
                Value::from(first_seq + offset as i64),
                Value::from(new.kind.to_db()),
                Value::from(new.sender.id.to_db()),
                Value::from(new.client_id.map(|c| c.hyphenated().to_string())),
                Value::from(new.text),
                Value::from(now),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; fresh.len()].join(", ");
        let insert = format!(
            "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at) VALUES {rows}"
        );
        tx.exec_drop(insert, Params::Positional(values)).await?;
        let read: Vec<(i64, i64)> = tx
            .exec(
                "SELECT seq, id FROM chat_messages WHERE meetup_id = ? AND seq BETWEEN ? AND ?",
                (meetup, first_seq, last),
            )
            .await?;
        ids = read.into_iter().collect();
    }
    let mut made: HashMap<usize, ChatMessage> = HashMap::new();
    let mut inserted = Vec::with_capacity(batch.len());
    let mut next_fresh = fresh.iter().peekable();
    let mut offset = 0;
    for (index, new) in batch.iter().enumerate() {
        if next_fresh.peek() == Some(&&index) {
            next_fresh.next();
            let seq = first_seq + offset;
            offset += 1;
            let message = new.stored(ids.get(&seq).copied().unwrap_or_default(), seq, time(now));
            made.insert(index, message.clone());
            inserted.push(Inserted::New(message));
            continue;
        }
        let k = key(new);
        let earlier = k.as_ref().and_then(|k| first_of.get(k)).and_then(|i| made.get(i)).cloned();
        let message = match (earlier, k.and_then(|k| stored.get(&k).cloned())) {
            (Some(message), _) => message,
            (None, Some(message)) => message,
            // Not reachable: a message that is not new has a key seen before.
            (None, None) => continue,
        };
        inserted.push(Inserted::Existing(ChatMessage { kind: new.kind, sender: Some(new.sender.clone()), ..message }));
    }
    Ok(Some(inserted))
}

/// The messages of `batch` whose (sender, client id) is already stored, in one query.
async fn stored_before(
    tx: &mut Transaction<'_>,
    batch: &[NewMessage<'_>],
) -> Result<HashMap<Key, ChatMessage>, mysql_async::Error> {
    let keys: Vec<Key> = batch.iter().filter_map(key).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    // A disjunction of point lookups: both MySQL and MariaDB read it through the unique index,
    // which a row-constructor IN does not promise on every version.
    let pairs = vec!["(sender_user_id = ? AND client_id = ?)"; keys.len()].join(" OR ");
    let query = format!(
        "SELECT id, meetup_id, seq, text, created_at, sender_user_id, client_id FROM chat_messages WHERE {pairs}"
    );
    let params: Vec<Value> =
        keys.iter().flat_map(|(s, c)| [Value::from(s.as_str()), Value::from(c.as_str())]).collect();
    let rows: Vec<(i64, i64, i64, String, i64, String, String)> = tx.exec(query, Params::Positional(params)).await?;
    let mut stored = HashMap::new();
    for (id, meetup_id, seq, text, created_at, sender, client) in rows {
        let Ok(client_id) = uuid::Uuid::parse_str(&client) else { continue };
        let message = ChatMessage {
            id,
            meetup_id,
            seq,
            kind: crate::storage::chat::MessageKind::Text,
            client_id: Some(client_id),
            sender: None,
            text,
            at: time(created_at),
        };
        stored.insert((sender, client), message);
    }
    Ok(stored)
}
