//! The servers the load runs against, set up and checked afterwards:
//! - ours: the `mingizuk-server` binary on SQLite or MySQL. Its accounts, meetups and members are
//!   written through the server's own storage API (`mingizuk_server::storage`) and the clients'
//!   access tokens are signed with the key the server was started with: signing up 1 000 accounts
//!   over HTTP would cost 1 000 Argon2 hashes (19 MiB each) and measure nothing of chat;
//! - the baseline: `bench/node/chat-baseline.mjs` (Socket.IO + mysql2) on a throwaway database.
//!
//! After a load, each server is killed (SIGKILL) and its database read back: every message a
//! client saw acknowledged must be there.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use futures_util::{StreamExt, TryStreamExt};
use mingizuk_bench::server::{self, ServerProcess};
use mingizuk_server::auth::TokenKeys;
use mingizuk_server::storage::chat::{MessageKind, Sender};
use mingizuk_server::storage::meetups::{Join, NewMeetup};
use mingizuk_server::storage::{self as store, NewUser, Storage, UserId};
use mysql_async::prelude::Queryable;

use crate::load::ClientSpec;
use crate::wire::Room;

/// Storage writes of the setup in flight at once.
const SETUP_CONCURRENCY: usize = 16;
/// More than any room holds after a run.
const ROOM_READ_LIMIT: u32 = 10_000_000;

/// A server with its clients, ready to load.
pub struct Prepared {
    pub server: ServerProcess,
    pub specs: Vec<ClientSpec>,
}

/// Starts our server on `database_url` and fills it with `rooms` meetups of `room_size` members.
pub async fn prepare_ours(database_url: &str, dir: &Path, rooms: usize, room_size: usize) -> Result<Prepared> {
    let binary = server::our_binary()?;
    let server = server::start_ours(&binary, database_url, dir).await?;
    // The server has run its migrations by the time it listens.
    let storage = store::open(database_url).await.context("opening the server's storage")?;
    let keys = TokenKeys::from_secret(server::JWT_SECRET.as_bytes());
    let url = format!("ws://127.0.0.1:{}/v1/chat", server.port);
    let members: Vec<Sender> = futures_util::stream::iter(0..rooms * room_size)
        .map(|i| create_member(storage.clone(), i))
        .buffered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    let rooms: Vec<(Room, i64)> = futures_util::stream::iter(members.chunks(room_size))
        .map(|people| create_room(storage.clone(), people))
        .buffered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    let mut specs = Vec::with_capacity(members.len());
    for (member, (room, ready_seq)) in members.iter().zip(rooms.iter().flat_map(|r| std::iter::repeat_n(r, room_size)))
    {
        let (token, _) = keys.issue_access(member.id, Utc::now()).context("signing an access token")?;
        specs.push(ClientSpec {
            url: url.clone(),
            bearer: Some(token),
            room: room.clone(),
            nickname: member.nickname.clone(),
            ready_seq: *ready_seq,
        });
    }
    Ok(Prepared { server, specs })
}

async fn create_member(storage: Arc<dyn Storage>, i: usize) -> Result<Sender> {
    let new = NewUser {
        id: UserId::random(),
        email: format!("chat{i}@example.com"),
        nickname: format!("러너{i}"),
        password_hash: None,
    };
    let user = storage.create_user(&new).await?;
    Ok(Sender { id: user.id, nickname: user.nickname })
}

/// A meetup hosted by the first of `people`, joined by the others; with the sequence number of
/// the last join message, which tells a subscriber that the replay has reached the present.
async fn create_room(storage: Arc<dyn Storage>, people: &[Sender]) -> Result<(Room, i64)> {
    let now = Utc::now();
    let meetup_id = storage
        .create_meetup(&NewMeetup {
            host: people[0].id,
            title: "한강 러닝".into(),
            contents: "채팅 벤치마크".into(),
            starts_at: now + Duration::hours(1),
            ends_at: now + Duration::days(1),
            member_limit: None,
            image_id: None,
            place_name: "여의나루역".into(),
            address: "서울특별시 영등포구 여의동로 343".into(),
            lat: 37.5271,
            lng: 126.9326,
            region: "서울특별시 영등포구".into(),
        })
        .await?
        .meetup
        .id;
    let mut last_seq = 0;
    for person in &people[1..] {
        match storage.join_meetup(meetup_id, person, now).await? {
            Join::Joined(message) => last_seq = message.seq,
            other => bail!("joining meetup {meetup_id}: {other:?}"),
        }
    }
    Ok((Room { meetup_id, name: meetup_id.to_string() }, last_seq))
}

/// Kills our server, then reads every room back: the acknowledged ids missing from storage.
pub async fn missing_from_ours(prepared: Prepared, database_url: &str, acked: &[i64]) -> Result<usize> {
    drop(prepared.server);
    let storage = store::open(database_url).await?;
    let mut stored = HashSet::new();
    let mut rooms: Vec<i64> = prepared.specs.iter().map(|s| s.room.meetup_id).collect();
    rooms.dedup();
    for room in rooms {
        let messages = storage.messages_after(room, 0, ROOM_READ_LIMIT).await?;
        stored.extend(messages.iter().filter(|m| m.kind == MessageKind::Text).map(|m| m.id));
    }
    Ok(acked.iter().filter(|id| !stored.contains(id)).count())
}

/// Starts the Node baseline on `database_url` with `rooms` rooms of `room_size` clients.
pub async fn prepare_baseline(database_url: &str, rooms: usize, room_size: usize) -> Result<Prepared> {
    let server = server::start_node("chat-baseline.mjs", &[database_url.as_ref()]).await?;
    let url = format!("ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket", server.port);
    let specs = (0..rooms * room_size)
        .map(|i| ClientSpec {
            url: url.clone(),
            bearer: None,
            room: Room { meetup_id: (i / room_size) as i64, name: format!("room-{}", i / room_size) },
            nickname: format!("러너{i}"),
            ready_seq: 0,
        })
        .collect();
    Ok(Prepared { server, specs })
}

/// Kills the baseline, then reads its table back: the acknowledged ids missing from it.
pub async fn missing_from_baseline(prepared: Prepared, database_url: &str, acked: &[i64]) -> Result<usize> {
    drop(prepared.server);
    let pool = mysql_async::Pool::from_url(database_url)?;
    let mut conn = pool.get_conn().await?;
    let stored: HashSet<i64> = conn.query("SELECT id FROM messages").await?.into_iter().collect();
    drop(conn);
    pool.disconnect().await?;
    Ok(acked.iter().filter(|id| !stored.contains(id)).count())
}
