//! Idempotent writes (DESIGN.md "HTTP API"): a signed-in client's POST, PUT, PATCH or DELETE with
//! an `Idempotency-Key` header gets the first response to that key again on every retry of the
//! same request, marked `Idempotent-Replayed: true`, so the app's outbox can resend safely. The
//! same key with another request is refused (422 `idempotency_key_reused`); a retry while the first
//! is still running waits for nothing and is told so (409 `idempotency_key_in_progress`). Only
//! responses below 500 (and not 429) are kept, for `KEPT_RESPONSE_LIFETIME`. One middleware over
//! the whole router, so every write route gets it, whoever adds it. Requests without a valid
//! access token pass through untouched: their handler refuses them or they are public (sign-up).
//!
//! The in-progress marker lives in this process; several instances on one MySQL still agree on the
//! kept response (the first stored wins) but may both run a request retried across instances.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::http::AppState;
use crate::storage::UserId;
use crate::storage::idempotency::KeptResponse;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted, in ASCII characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a kept response is replayed; the daily purge forgets older ones.
pub const KEPT_RESPONSE_LIFETIME: chrono::Duration = chrono::Duration::days(1);

/// The (user, key) pairs whose first request is running now.
#[derive(Debug, Default)]
pub struct WritesInFlight(Mutex<HashSet<(UserId, String)>>);

/// Holds a (user, key) pair as in flight until dropped, even when the handler panics or the
/// client goes away.
struct InFlight<'a> {
    writes: &'a WritesInFlight,
    pair: (UserId, String),
}

impl WritesInFlight {
    fn start(&self, user: UserId, key: &str) -> Option<InFlight<'_>> {
        let pair = (user, key.to_owned());
        let newly_running = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(pair.clone());
        // Not `then_some`: an `InFlight` built for a pair already running would unmark it when dropped.
        if newly_running { Some(InFlight { writes: self, pair }) } else { None }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.writes.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.pair);
    }
}

/// The key of an `Idempotency-Key` header: 1–255 visible ASCII characters.
pub fn parse_key(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    let visible = !bytes.is_empty() && bytes.len() <= MAX_KEY_CHARS && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if visible { value.to_str().ok() } else { None }
}

/// SHA-256 of the method, the path with its query, and the body: what "the same request" means.
pub fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(path_and_query.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().into()
}

fn is_write(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// The signed-in user a request speaks for, if its access token is valid.
fn user_of(state: &AppState, headers: &HeaderMap) -> Option<UserId> {
    let token = bearer_token(headers.get(header::AUTHORIZATION)?).ok()?;
    state.auth.keys.verify_access(token).ok()
}

/// The middleware `http::routes` mounts over every route.
pub async fn idempotent_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_write(request.method()) {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(IDEMPOTENCY_KEY) else { return next.run(request).await };
    let Some(user) = user_of(&state, request.headers()) else { return next.run(request).await };
    let Some(key) = parse_key(value).map(str::to_owned) else {
        return ApiError::Validation(format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"))
            .into_response();
    };
    // In a task of its own: a client that hangs up must not cancel the write between its commit
    // and the keeping of its answer, or the retry would run it a second time.
    let write = tokio::spawn(async move { keyed_write(&state, user, &key, request, next).await });
    match write.await {
        Ok(Ok(response) | Err(response)) => response,
        Err(e) => ApiError::internal(format!("an idempotent write failed: {e}")).into_response(),
    }
}

async fn keyed_write(
    state: &AppState,
    user: UserId,
    key: &str,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let (parts, body) = request.into_parts();
    // The largest body any route takes; each route's own limit still applies inside.
    let ceiling = state.config.max_body_bytes.max(state.config.media.max_bytes);
    let body = axum::body::to_bytes(body, ceiling).await.map_err(|_| ApiError::PayloadTooLarge.into_response())?;
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
    let hash = request_hash(&parts.method, path, &body);

    let Some(_running) = state.writes_in_flight.start(user, key) else {
        return Err(ApiError::conflict(
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is still running; retry when it has finished",
        )
        .into_response());
    };
    let kept = state.storage.kept_response(user, key).await.map_err(|e| ApiError::from(e).into_response())?;
    if let Some(kept) = kept {
        if kept.request_hash != hash {
            return Err(ApiError::rule(
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request; use a new key for a new request",
            )
            .into_response());
        }
        return Ok(replay(kept));
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body: Bytes =
        axum::body::to_bytes(body, usize::MAX).await.map_err(|e| ApiError::internal(e).into_response())?;
    let kept = KeptResponse { request_hash: hash, status: status.as_u16(), body: body.to_vec() };
    if let Err(e) = state.storage.keep_response(user, key, &kept).await {
        // The write happened; the client gets its answer, a retry runs it again.
        tracing::error!(error = %e, "could not keep the response of an idempotent write");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// The kept response again: its status and body (JSON when there is one), marked as a replay.
fn replay(kept: KeptResponse) -> Response {
    let has_body = !kept.body.is_empty();
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if has_body {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert_eq!(parse_key(&HeaderValue::from_static("outbox-7f3a")), Some("outbox-7f3a"));
        assert!(parse_key(&HeaderValue::from_static("")).is_none());
        assert!(parse_key(&HeaderValue::from_static("has space")).is_none());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(256)).expect("header")).is_none());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(255)).expect("header")).is_some());
    }

    #[test]
    fn the_hash_changes_with_method_path_and_body() {
        let base = request_hash(&Method::POST, "/v1/meetups", b"{}");
        assert_eq!(base, request_hash(&Method::POST, "/v1/meetups", b"{}"));
        assert_ne!(base, request_hash(&Method::PUT, "/v1/meetups", b"{}"));
        assert_ne!(base, request_hash(&Method::POST, "/v1/meetups/1", b"{}"));
        assert_ne!(base, request_hash(&Method::POST, "/v1/meetups", b"{\"a\":1}"));
    }
}
