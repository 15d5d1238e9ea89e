//! Document sync (DESIGN.md "Sync"): `GET /v1/sync` speaks the automerge-repo protocol over a
//! WebSocket, authenticated before the upgrade by a bearer access token or a single-use ticket
//! from `POST /v1/ws-ticket`. The server side of the protocol is written here rather than taken
//! from `samod`: samod's `Storage::put` returns `()`, so a failed write could not be reported, and
//! its document actor is free to send before a write has finished — both against the rule that a
//! peer is never told about a change the database does not hold. Its sync messages come from
//! `ledger`, which keeps a document's change graph instead of the document (the server never
//! reads a document) and answers as automerge's own sync code does.

mod connection;
mod fanout;
mod hub;
mod ledger;
mod signal;
mod slots;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

pub use connection::{Limits, MAX_NAME_BYTES};
pub use hub::{COMPACT_AFTER_CHUNKS, Hub};
pub use slots::{MAX_PER_ACCOUNT as MAX_CONNECTIONS_PER_ACCOUNT, Slot, Slots};
pub use tickets::{TICKET_LIFETIME, Tickets};

use crate::auth::{AuthError, Authenticated, bearer_token};
use crate::error::{ApiError, Json};
use crate::http::AppState;
use crate::storage::User;

/// The WebSocket read buffer of a sync connection (see [`accept_upgrade`]): sync messages are
/// mostly a few hundred bytes, some far larger.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// What sync needs at run time, kept in `AppState`.
pub struct Sync {
    pub hub: Arc<Hub>,
    pub tickets: Tickets,
    pub limits: Limits,
    /// This server's peer id in the protocol.
    pub peer_id: String,
    /// The `/v1/sync` connections open, by account.
    pub slots: Slots,
}

impl Sync {
    /// One instance's document sync; with `redis`, its documents' changes announced to and from
    /// the other instances on it.
    pub fn new(
        storage: Arc<dyn crate::storage::Storage>,
        limits: Limits,
        redis: Option<&crate::config::RedisConfig>,
    ) -> Result<Self, redis::RedisError> {
        let hub = Arc::new(Hub::new(storage, limits.max_message_bytes));
        if let Some(redis) = redis {
            hub.connect_bus(redis)?;
        }
        let peer_id = format!("mingizuk-server-{}", uuid::Uuid::new_v4().simple());
        Ok(Self { hub, tickets: Tickets::default(), limits, peer_id, slots: Slots::default() })
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/ws-ticket", post(issue_ticket)).route("/v1/sync", get(open_sync))
}

/// A ticket for the live account a valid access token speaks for (one of an account in its
/// deletion grace would open nothing: `authenticate_upgrade` checks again).
async fn issue_ticket(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.auth.current_user(&*state.storage, user).await?;
    let ticket = state.sync.tickets.issue(user);
    Ok((StatusCode::CREATED, Json(json!({ "ticket": ticket, "expires_in": TICKET_LIFETIME.as_secs() }))))
}

/// The query string of a WebSocket upgrade: a ticket for clients that cannot set headers.
#[derive(Deserialize)]
pub struct TicketQuery {
    pub ticket: Option<String>,
}

/// Who opens a WebSocket (`/v1/sync`, `/v1/chat`): the origin is checked, then the bearer header
/// or else the single-use ticket, then that the account still exists (an access token outlives
/// the deletion of its account by up to its lifetime; a connection does not).
pub async fn authenticate_upgrade(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<User, ApiError> {
    check_origin(state, headers)?;
    let user = match (headers.get(header::AUTHORIZATION), ticket) {
        (Some(value), _) => bearer_token(value).and_then(|token| state.auth.keys.verify_access(token))?,
        (None, Some(ticket)) => state.sync.tickets.redeem(ticket).ok_or(AuthError::InvalidTicket)?,
        (None, None) => return Err(ApiError::Unauthenticated),
    };
    match state.storage.user_by_id(user).await? {
        Some(account) if account.deleted_at.is_none() => Ok(account),
        _ => Err(AuthError::InvalidToken.into()),
    }
}

/// Checks the origin and the credentials, then upgrades. Every refusal is an HTTP error in the
/// API's format, sent before any WebSocket exists.
async fn open_sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TicketQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let limits = state.sync.limits.clone();
    let ticket = query.ticket.as_deref();
    let accepted = accept_upgrade(
        &state,
        &headers,
        ticket,
        upgrade,
        &state.sync.slots,
        limits.max_message_bytes,
        READ_BUFFER_BYTES,
    );
    let (account, upgrade, slot) = match accepted.await {
        Ok(accepted) => accepted,
        Err(e) => return e.into_response(),
    };
    let hub = state.sync.hub.clone();
    let peer_id = state.sync.peer_id.clone();
    upgrade.on_upgrade(move |socket| async move {
        connection::serve(socket, hub, account.id, peer_id, limits).await;
        drop(slot);
    })
}

/// Close codes (RFC 6455) both WebSocket endpoints (`/v1/sync`, `/v1/chat`) end connections with,
/// each with its stable reason at the place it is used.
pub(crate) mod close {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const TRY_AGAIN: u16 = 1013;
}

/// How often an open WebSocket checks that its account was not deleted since it opened (the
/// default of both endpoints' `Limits::account_recheck`).
pub(crate) const ACCOUNT_RECHECK: std::time::Duration = std::time::Duration::from_secs(300);

/// Why a WebSocket connection (`/v1/sync`, `/v1/chat`) ends: a close code and a stable reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Close(pub u16, pub &'static str);

impl Close {
    /// A read that failed: a message past the transport's cap (twice the endpoint's own) is 1009
    /// like one past the endpoint's cap, text that is not UTF-8 is 1007, any other breach of the
    /// protocol 1002; a peer that went away is a plain close.
    pub(crate) fn read_failure(error: axum::Error) -> Self {
        use tokio_tungstenite::tungstenite::Error;
        use tokio_tungstenite::tungstenite::error::ProtocolError;
        match error.into_inner().downcast_ref::<Error>() {
            Some(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => Close(close::NORMAL, "closed"),
            Some(Error::Capacity(_)) => Close(close::TOO_BIG, "message_too_large"),
            Some(Error::Utf8(_)) => Close(close::INVALID_DATA, "invalid_utf8"),
            Some(Error::Protocol(_)) => Close(close::PROTOCOL, "protocol_error"),
            _ => Close(close::NORMAL, "closed"),
        }
    }

    /// Sends the close frame, unless the client is too slow to take it within `CLOSE_TIMEOUT`
    /// (it is dropped without one).
    pub(crate) async fn send(self, socket: &mut axum::extract::ws::WebSocket) {
        let frame = axum::extract::ws::CloseFrame { code: self.0, reason: self.1.into() };
        let closing = socket.send(axum::extract::ws::Message::Close(Some(frame)));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, closing).await;
    }
}

/// A write to the client that failed: the client went away.
impl From<axum::Error> for Close {
    fn from(_: axum::Error) -> Self {
        Close(close::NORMAL, "closed")
    }
}

/// Whether the account an open WebSocket (`/v1/sync`, `/v1/chat`) was opened for was deleted
/// since: each endpoint asks every `account_recheck` of its limits, so a deleted account's sockets
/// close (1008 `account_deleted`) rather than living on for as long as TCP keeps them. A storage
/// failure counts as not deleted: the next check decides.
pub(crate) async fn account_deleted(storage: &dyn crate::storage::Storage, user: crate::storage::UserId) -> bool {
    match storage.user_by_id(user).await {
        Ok(account) => account.is_none_or(|a| a.deleted_at.is_some()),
        Err(e) => {
            tracing::warn!(error = %e, "could not check an open socket's account");
            false
        }
    }
}

/// How long a closing WebSocket endpoint (`/v1/sync`, `/v1/chat`) lets its close frame wait for
/// the client to read; a client too slow for it is dropped without one.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// A WebSocket upgrade request that passed [`authenticate_upgrade`] and found a place among the
/// account's connections of the endpoint (`slots`; the [`Slot`] is held while the connection
/// lives), with the transport's caps set
/// above the endpoint's own message cap, so an oversized message reaches the endpoint's check and
/// gets its stable close reason instead of a bare transport error. Tungstenite zero-fills the free
/// part of its read buffer before every socket read (128 KiB by default), so each endpoint sizes
/// `read_buffer_bytes` to its messages: a larger one just takes several reads.
pub async fn accept_upgrade(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    slots: &Slots,
    max_message_bytes: usize,
    read_buffer_bytes: usize,
) -> Result<(User, WebSocketUpgrade, Slot), ApiError> {
    let account = authenticate_upgrade(state, headers, ticket).await?;
    let upgrade = upgrade.map_err(|_| ApiError::UpgradeRequired)?;
    let slot = slots.take(account.id)?;
    let cap = max_message_bytes.saturating_mul(2);
    Ok((account, upgrade.max_message_size(cap).max_frame_size(cap).read_buffer_size(read_buffer_bytes), slot))
}

/// Browsers send `Origin`; a request from a web page not on the allow-list is refused. Native
/// clients send none.
pub fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or("");
    if state.config.allowed_origins.iter().any(|allowed| allowed == origin) {
        Ok(())
    } else {
        Err(ApiError::OriginNotAllowed)
    }
}
