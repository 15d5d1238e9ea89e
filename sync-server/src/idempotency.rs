//! Idempotent writes (DESIGN.md "HTTP API"): a signed-in client's POST, PUT, PATCH or DELETE with
//! an `Idempotency-Key` header gets the first response to that key again on every retry of the
//! same request, marked `Idempotent-Replayed: true`, so the app's outbox can resend safely. The
//! same key with another request is refused (422 `idempotency_key_reused`); a retry while the first
//! is still running waits for nothing and is told so (409 `idempotency_key_in_progress`). Only
//! responses below 500 (and not 429) are kept, for `KEPT_RESPONSE_LIFETIME`. One middleware over
//! the whole router, so every write route gets it, whoever adds it. Requests without a valid
//! access token pass through untouched: their handler refuses them or they are public (sign-up).
//! So do the routes whose answer is a credential (`never_replayed`): a credential must not be
//! stored as a kept response, and one already spent or rotated must not be handed out again.
//!
//! The in-progress marker is a claim stored in the key's row before the request runs (storage's
//! `claim_key`: of concurrent claims exactly one wins), so several instances on one database agree
//! on it as they agree on the kept response. A claim whose server died with it is taken over by a
//! retry after `IN_PROGRESS_TIMEOUT`.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::http::AppState;
use crate::storage::idempotency::{KeptResponse, KeyClaim};
use crate::storage::{Storage, UserId};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted, in ASCII characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a kept response is replayed; the daily purge forgets older ones.
pub const KEPT_RESPONSE_LIFETIME: chrono::Duration = chrono::Duration::days(1);
/// How long a claimed key counts as running. A request runs in seconds (its body is read before
/// the claim); a claim this old belongs to a server that died mid-request, and a retry takes it
/// over rather than being told `idempotency_key_in_progress` for the rest of the day.
pub const IN_PROGRESS_TIMEOUT: chrono::Duration = chrono::Duration::minutes(2);

/// A key this request claimed. Dropped without `keep` or `release` (the handler panicked), it is
/// released in a task of its own, so the next retry runs rather than waiting for the timeout.
struct HeldKey {
    storage: std::sync::Arc<dyn Storage>,
    user: UserId,
    key: String,
    claim: Option<Uuid>,
}

impl HeldKey {
    /// Keeps the response for retries; a failure is logged (the client gets its answer, a retry
    /// after the timeout runs the write again).
    async fn keep(mut self, status: StatusCode, body: &[u8]) {
        let Some(claim) = self.claim.take() else { return };
        match self.storage.keep_response(self.user, &self.key, claim, status.as_u16(), body, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("an idempotency key was taken over while its first request ran"),
            Err(e) => tracing::error!(error = %e, "could not keep the response of an idempotent write"),
        }
    }

    async fn release(mut self) {
        let Some(claim) = self.claim.take() else { return };
        if let Err(e) = self.storage.release_key(self.user, &self.key, claim).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
    }
}

impl Drop for HeldKey {
    fn drop(&mut self) {
        let Some(claim) = self.claim.take() else { return };
        let (storage, user, key) = (std::sync::Arc::clone(&self.storage), self.user, std::mem::take(&mut self.key));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = storage.release_key(user, &key, claim).await {
                    tracing::error!(error = %e, "could not release an idempotency key");
                }
            });
        }
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

/// Routes that answer with a credential (tokens, a one-time WebSocket ticket): never kept nor
/// replayed, with or without a key.
pub fn never_replayed(path: &str) -> bool {
    path == "/v1/ws-ticket" || path.starts_with("/v1/auth/")
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
    if !is_write(request.method()) || never_replayed(request.uri().path()) {
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
    let body = axum::body::to_bytes(body, ceiling).await.map_err(|e| unread_body(&e).into_response())?;
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
    let hash = request_hash(&parts.method, path, &body);

    let now = Utc::now();
    let claim = state
        .storage
        .claim_key(user, key, &hash, now, now - IN_PROGRESS_TIMEOUT)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let claim = match claim {
        KeyClaim::Claimed(claim) => claim,
        KeyClaim::Kept(kept) if kept.request_hash == hash => return Ok(replay(kept)),
        KeyClaim::Running { request_hash } if request_hash == hash => {
            return Err(ApiError::conflict(
                "idempotency_key_in_progress",
                "a request with this Idempotency-Key is still running; retry when it has finished",
            )
            .into_response());
        }
        KeyClaim::Kept(_) | KeyClaim::Running { .. } => {
            return Err(ApiError::rule(
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request; use a new key for a new request",
            )
            .into_response());
        }
    };
    let held =
        HeldKey { storage: std::sync::Arc::clone(&state.storage), user, key: key.to_owned(), claim: Some(claim) };

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        held.release().await;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            held.release().await;
            return Err(ApiError::internal(e).into_response());
        }
    };
    held.keep(status, &body).await;
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// Why a request's body could not be read: past the ceiling, or the body itself failed (a client
/// that went away mid-body, a malformed chunked encoding).
fn unread_body(error: &axum::Error) -> ApiError {
    let mut causes = std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| e.source());
    if causes.any(|cause| cause.is::<http_body_util::LengthLimitError>()) {
        ApiError::PayloadTooLarge
    } else {
        ApiError::InvalidBody(format!("the request body could not be read: {error}"))
    }
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
