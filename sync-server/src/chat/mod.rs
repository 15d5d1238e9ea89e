//! Meetup chat (PRODUCT.md §7, DESIGN.md "Chat"): `GET /v1/chat` is a WebSocket of JSON frames,
//! opened with the same credentials, tickets and origin check as `/v1/sync`. `rooms` fans stored
//! messages out in memory (and, with a Redis URL, through `bus` to the other instances),
//! `connection` runs one socket, `frames` holds the frame shapes and
//! `routes` the HTTP routes that change a room (join, leave, notice) or page its history. Messages
//! are stored before anyone hears of them; who may post is checked here, consistency is storage's.

mod bus;
mod connection;
mod frames;
mod outbox;
mod rooms;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use frames::{ErrorCode, MessageView};
pub use rooms::Rooms;
pub use routes::HISTORY_PAGE_MAX;

use crate::http::AppState;
use crate::storage::Storage;
use crate::storage::chat::Sender;
use crate::sync::{TicketQuery, accept_upgrade};

/// The limits one chat connection lives under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest frame accepted; a larger one closes the connection (1009). A message of 250
    /// four-byte characters with its JSON fits in well under this.
    pub max_message_bytes: usize,
    /// Sustained frames per second, and the burst allowed above it (an offline queue flushing).
    /// A frame over the limit is answered `rate_limited` and not acted on.
    pub messages_per_second: f64,
    pub burst: f64,
    /// A connection that sends nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// Rooms one connection may subscribe to at once.
    pub max_rooms: usize,
    /// Events waiting for one connection; beyond this it is too slow and is closed (1013).
    pub outbox_capacity: usize,
    /// How long one step's writes (a delivery, a reply, a replay, a ping) may wait for the client
    /// to read; past it the connection is too slow and is closed. A client that stops reading for
    /// good would otherwise hold its task, its socket buffers and its rooms for as long as TCP
    /// keeps the connection.
    pub write_timeout: Duration,
    /// How often the connection checks that its account was not deleted since it opened.
    pub account_recheck: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024,
            messages_per_second: 10.0,
            burst: 100.0,
            idle_timeout: Duration::from_secs(120),
            ping_interval: mingizuk_core::limits::WEBSOCKET_PING_INTERVAL,
            max_rooms: 200,
            outbox_capacity: 4_096,
            write_timeout: Duration::from_secs(30),
            account_recheck: crate::sync::ACCOUNT_RECHECK,
        }
    }
}

/// What chat needs at run time, kept in `AppState`.
pub struct Chat {
    pub rooms: Arc<Rooms>,
    pub limits: Limits,
    /// The `/v1/chat` connections open, by account.
    pub slots: crate::sync::Slots,
}

impl Chat {
    /// One instance's chat; with `redis`, fanned out to and from the other instances on it.
    pub fn new(
        storage: Arc<dyn Storage>,
        limits: Limits,
        redis: Option<&crate::config::RedisConfig>,
    ) -> Result<Self, redis::RedisError> {
        let rooms = Arc::new(Rooms::new(storage));
        if let Some(redis) = redis {
            rooms.connect_bus(redis)?;
        }
        Ok(Self { rooms, limits, slots: crate::sync::Slots::default() })
    }
}

/// A chat connection's WebSocket read buffer (see [`accept_upgrade`]): chat frames are a few
/// hundred bytes (`Limits::max_message_bytes` at most); with `/v1/sync`'s 16 KiB, zero-filling it
/// before each read was 7 % of the server's CPU under the chat benchmark's load.
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/chat", get(open_chat)).merge(routes::router())
}

/// Checks the origin and the credentials, then upgrades; refusals are HTTP errors in the API's
/// format, as for `/v1/sync`.
async fn open_chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TicketQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let limits = state.chat.limits.clone();
    let ticket = query.ticket.as_deref();
    let accepted = accept_upgrade(
        &state,
        &headers,
        ticket,
        upgrade,
        &state.chat.slots,
        limits.max_message_bytes,
        READ_BUFFER_BYTES,
    );
    let (account, upgrade, slot) = match accepted.await {
        Ok(accepted) => accepted,
        Err(e) => return e.into_response(),
    };
    let user = Sender { id: account.id, nickname: account.nickname };
    let rooms = Arc::clone(&state.chat.rooms);
    upgrade.on_upgrade(move |socket| async move {
        connection::serve(socket, rooms, user, limits).await;
        drop(slot);
    })
}
