//! MySQL: a group commit of chat messages in a fixed number of round trips, however many messages
//! and rooms it holds: look up resends, advance every meetup's counter in one `UPDATE`, read the
//! counters back, one multi-row `INSERT`, read back the ids. Same results as appending the
//! messages one by one with `insert_message`, which stays the path for anything else.

use std::collections::{BTreeMap, HashMap};

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Transaction, Value};

use super::chat::{Inserted, insert_message};
use crate::storage::chat::{ChatMessage, MeetupId, NewMessage};
use crate::storage::now_millis;

/// Larger batches go one message at a time (7 placeholders a row; MySQL allows 65 535).
const MAX_ROWS: usize = 4_000;

/// A (sender, client id) pair as stored.
type Key = (String, String);

fn key(new: &NewMessage<'_>) -> Option<Key> {
    new.client_id.map(|c| (new.sender.id.to_db(), c.hyphenated().to_string()))
}

fn time(millis: i64) -> chrono::DateTime<chrono::Utc> {
    // We wrote it; a value that cannot be read comes back as the epoch's start.
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

fn placeholders(one: &str, count: usize, between: &str) -> String {
    vec![one; count].join(between)
}

/// Appends `batch` inside the caller's transaction, in order (each meetup's messages get its next
/// sequence numbers in the order given); `None` if one of its meetups is gone.
pub(super) async fn insert_batch(
    tx: &mut Transaction<'_>,
    batch: &[NewMessage<'_>],
) -> Result<Option<Vec<Inserted>>, mysql_async::Error> {
    if batch.len() > MAX_ROWS {
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
    let mut counts: BTreeMap<MeetupId, i64> = BTreeMap::new();
    let mut seqs: Vec<Option<i64>> = vec![None; batch.len()];
    for (index, new) in batch.iter().enumerate() {
        if let Some(k) = key(new) {
            if stored.contains_key(&k) || first_of.contains_key(&k) {
                continue;
            }
            first_of.insert(k, index);
        }
        let count = counts.entry(new.meetup_id).or_default();
        *count += 1;
        // The offset within the meetup's new messages, for now; its sequence number below.
        seqs[index] = Some(*count);
    }
    let now = now_millis();
    let mut ids: HashMap<(MeetupId, i64), i64> = HashMap::new();
    if !counts.is_empty() {
        let Some(last) = advance_counters(tx, &counts).await? else { return Ok(None) };
        for (seq, new) in seqs.iter_mut().zip(batch) {
            if let Some(offset) = seq {
                let meetup = new.meetup_id;
                *offset += last.get(&meetup).copied().unwrap_or_default() - counts.get(&meetup).copied().unwrap_or_default();
            }
        }
        insert_rows(tx, batch, &seqs, now).await?;
        ids = read_ids(tx, &counts, &last).await?;
    }
    let mut inserted: Vec<Inserted> = Vec::with_capacity(batch.len());
    for (index, new) in batch.iter().enumerate() {
        if let Some(seq) = seqs[index] {
            let id = ids.get(&(new.meetup_id, seq)).copied().unwrap_or_default();
            inserted.push(Inserted::New(new.stored(id, seq, time(now))));
            continue;
        }
        // Not new, so it has a key: stored before, or first seen earlier in this batch (whose
        // result is already in place: `inserted` gets one entry per message, in order).
        let earlier = key(new).and_then(|k| match first_of.get(&k).and_then(|&i| inserted.get(i)) {
            Some(Inserted::New(message)) => Some(message.clone()),
            _ => stored.get(&k).cloned(),
        });
        let Some(message) = earlier else {
            return Err(mysql_async::Error::Other("a chat message neither new nor stored before".into()));
        };
        inserted.push(Inserted::Existing(ChatMessage { kind: new.kind, sender: Some(new.sender.clone()), ..message }));
    }
    Ok(Some(inserted))
}

/// Advances each meetup's counter by its count of new messages (one statement, rows locked in key
/// order); each meetup's last sequence number now, or `None` if one of them is gone.
async fn advance_counters(
    tx: &mut Transaction<'_>,
    counts: &BTreeMap<MeetupId, i64>,
) -> Result<Option<BTreeMap<MeetupId, i64>>, mysql_async::Error> {
    let meetups: Vec<Value> = counts.keys().map(|&m| Value::from(m)).collect();
    let within = placeholders("?", counts.len(), ", ");
    if let [(&meetup, &count)] = counts.iter().collect::<Vec<_>>()[..] {
        tx.exec_drop("UPDATE meetups SET chat_seq = chat_seq + ? WHERE id = ?", (count, meetup)).await?;
    } else {
        let cases = placeholders(" WHEN ? THEN ?", counts.len(), "");
        let update = format!("UPDATE meetups SET chat_seq = chat_seq + CASE id{cases} END WHERE id IN ({within})");
        let mut params: Vec<Value> = counts.iter().flat_map(|(&m, &c)| [Value::from(m), Value::from(c)]).collect();
        params.extend(meetups.iter().cloned());
        tx.exec_drop(update, Params::Positional(params)).await?;
    }
    let select = format!("SELECT id, chat_seq FROM meetups WHERE id IN ({within})");
    let last: BTreeMap<MeetupId, i64> =
        tx.exec::<(i64, i64), _, _>(select, Params::Positional(meetups)).await?.into_iter().collect();
    Ok((last.len() == counts.len()).then_some(last))
}

/// One multi-row insert of the new messages (those with a sequence number).
async fn insert_rows(
    tx: &mut Transaction<'_>,
    batch: &[NewMessage<'_>],
    seqs: &[Option<i64>],
    now: i64,
) -> Result<(), mysql_async::Error> {
    let mut values: Vec<Value> = Vec::with_capacity(batch.len() * 7);
    for (new, seq) in batch.iter().zip(seqs) {
        let Some(seq) = *seq else { continue };
        values.extend([
            Value::from(new.meetup_id),
            Value::from(seq),
            Value::from(new.kind.to_db()),
            Value::from(new.sender.id.to_db()),
            Value::from(new.client_id.map(|c| c.hyphenated().to_string())),
            Value::from(new.text),
            Value::from(now),
        ]);
    }
    let rows = placeholders("(?, ?, ?, ?, ?, ?, ?)", values.len() / 7, ", ");
    let insert = format!(
        "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at) VALUES {rows}"
    );
    tx.exec_drop(insert, Params::Positional(values)).await
}

/// The ids of the messages just inserted, by (meetup, seq).
async fn read_ids(
    tx: &mut Transaction<'_>,
    counts: &BTreeMap<MeetupId, i64>,
    last: &BTreeMap<MeetupId, i64>,
) -> Result<HashMap<(MeetupId, i64), i64>, mysql_async::Error> {
    let ranges = placeholders("(meetup_id = ? AND seq BETWEEN ? AND ?)", counts.len(), " OR ");
    let params: Vec<Value> = counts
        .iter()
        .flat_map(|(&meetup, &count)| {
            let last = last.get(&meetup).copied().unwrap_or_default();
            [Value::from(meetup), Value::from(last - count + 1), Value::from(last)]
        })
        .collect();
    let query = format!("SELECT meetup_id, seq, id FROM chat_messages WHERE {ranges}");
    let rows: Vec<(i64, i64, i64)> = tx.exec(query, Params::Positional(params)).await?;
    Ok(rows.into_iter().map(|(meetup, seq, id)| ((meetup, seq), id)).collect())
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
    let pairs = placeholders("(sender_user_id = ? AND client_id = ?)", keys.len(), " OR ");
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
