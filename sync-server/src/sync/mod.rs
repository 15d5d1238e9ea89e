//! Document sync (DESIGN.md "Sync"): `GET /v1/sync` speaks the automerge-repo protocol over a
//! WebSocket, authenticated before the upgrade by a bearer access token or a single-use ticket
//! from `POST /v1/ws-ticket`. The server side of the protocol is written here over automerge's sync
//! API rather than taken from `samod`: samod's `Storage::put` returns `()`, so a failed write
//! could not be reported, and its document actor is free to send before a write has finished —
//! both against the rule that a peer is never told about a change the database does not hold.

mod connection;
mod hub;
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

pub use connection::Limits;
pub use hub::{COMPACT_AFTER_CHUNKS, Hub};
pub use tickets::{TICKET_LIFETIME, Tickets};

use crate::auth::{AuthError, Authenticated, bearer_token};
use crate::error::{ApiError, Json};
use crate::http::AppState;

/// The WebSocket read buffer of a connection.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// What sync needs at run time, kept in `AppState`.
pub struct Sync {
    pub hub: Arc<Hub>,
    pub tickets: Tickets,
    pub limits: Limits,
    /// This server's peer id in the protocol.
    pub peer_id: String,
}

impl Sync {
    pub fn new(storage: Arc<dyn crate::storage::Storage>, limits: Limits) -> Self {
        Self {
            hub: Arc::new(Hub::new(storage)),
            tickets: Tickets::default(),
            limits,
            peer_id: format!("mingizuk-server-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/ws-ticket", post(issue_ticket)).route("/v1/sync", get(open_sync))
}

async fn issue_ticket(State(state): State<AppState>, Authenticated(user): Authenticated) -> (StatusCode, Json<Value>) {
    let ticket = state.sync.tickets.issue(user);
    (StatusCode::CREATED, Json(json!({ "ticket": ticket, "expires_in": TICKET_LIFETIME.as_secs() })))
}

#[derive(Deserialize)]
struct SyncQuery {
    ticket: Option<String>,
}

/// Checks the origin and the credentials, then upgrades. Every refusal is an HTTP error in the
/// API's format, sent before any WebSocket exists.
async fn open_sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SyncQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Err(e) = check_origin(&state, &headers) {
        return e.into_response();
    }
    let user = match (headers.get(header::AUTHORIZATION), query.ticket) {
        (Some(value), _) => match bearer_token(value).and_then(|token| state.auth.keys.verify_access(token)) {
            Ok(user) => user,
            Err(e) => return ApiError::from(e).into_response(),
        },
        (None, Some(ticket)) => match state.sync.tickets.redeem(&ticket) {
            Some(user) => user,
            None => return ApiError::from(AuthError::InvalidTicket).into_response(),
        },
        (None, None) => return ApiError::Unauthenticated.into_response(),
    };
    // An access token outlives the deletion of its account by up to its lifetime; sync does not.
    match state.storage.user_by_id(user).await {
        Ok(Some(account)) if account.deleted_at.is_none() => {}
        Ok(_) => return ApiError::from(AuthError::InvalidToken).into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(_) => return ApiError::UpgradeRequired.into_response(),
    };
    let limits = state.sync.limits.clone();
    let hub = state.sync.hub.clone();
    let peer_id = state.sync.peer_id.clone();
    upgrade
        // The transport's own caps sit above ours, so an oversized message reaches our check and
        // gets its stable close reason instead of a bare transport error.
        .max_message_size(limits.max_message_bytes.saturating_mul(2))
        // Tungstenite zero-fills this much buffer before every socket read (128 KiB by default):
        // most messages are a few hundred bytes, and a larger one just takes several reads.
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(limits.max_message_bytes.saturating_mul(2))
        .on_upgrade(move |socket| connection::serve(socket, hub, user, peer_id, limits))
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
