//! The social routes over HTTP with the session's access token: a refused token is refreshed once
//! and the request made again; a refused refresh signs the device out.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use super::Inner;
use crate::error::{ClientError, Result};
use crate::sync::server_error;

/// Sends what `build` makes with a fresh access token, once more after a refresh if the token was
/// refused.
async fn send(inner: &Inner, build: impl Fn(&str) -> RequestBuilder) -> Result<Response> {
    let token = inner.credentials.access_token_of(&inner.owner, false).await?;
    let response = build(&token).send().await.map_err(network)?;
    if response.status().as_u16() != 401 {
        return Ok(response);
    }
    let token = inner.credentials.access_token_of(&inner.owner, true).await?;
    build(&token).send().await.map_err(network)
}

fn url(inner: &Inner, path: &str) -> String {
    format!("{}{path}", inner.credentials.api.base())
}

pub(super) async fn get(inner: &Inner, path: &str, query: &[(&str, String)]) -> Result<Value> {
    let response = send(inner, |token| inner.http.get(url(inner, path)).query(query).bearer_auth(token)).await?;
    if !response.status().is_success() {
        return Err(server_error(response).await);
    }
    response.json().await.map_err(network)
}

/// A request made online and at once (not through the outbox): the server's answer (`null` for
/// none), or its refusal as an error.
pub(super) async fn request(inner: &Inner, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
    let response = send(inner, |token| {
        let request = inner.http.request(method.clone(), url(inner, path)).bearer_auth(token);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    })
    .await?;
    answer(response).await
}

/// Uploads raw bytes (an image) with their content type.
pub(super) async fn upload(inner: &Inner, path: &str, bytes: &[u8], content_type: &str) -> Result<Value> {
    let response = send(inner, |token| {
        inner
            .http
            .post(url(inner, path))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes.to_vec())
    })
    .await?;
    answer(response).await
}

async fn answer(response: Response) -> Result<Value> {
    if !response.status().is_success() {
        return Err(server_error(response).await);
    }
    let text = response.text().await.map_err(network)?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// How one attempt at a queued write ended.
pub(super) enum Outcome {
    /// Done; the server's answer (`null` for none).
    Done(Value),
    /// Refused for good, with the server's code and message.
    Refused(String, String),
    /// Not known to be done (no answer, the server busy or failing): try again later. `delivered`:
    /// the request may have reached the server and been applied (its answer was lost), so the
    /// server may hold an answer to its key; not when it never connected or was answered with a
    /// failure (a failure's key is not kept).
    Retry { reason: String, delivered: bool },
}

impl Outcome {
    fn retry(reason: impl Into<String>, delivered: bool) -> Outcome {
        Outcome::Retry { reason: reason.into(), delivered }
    }
}

/// One attempt at an HTTP write carrying its idempotency key. Sent here rather than through
/// `send`, to tell a request that never left (no connection) from one whose answer was lost.
pub(super) async fn write(inner: &Inner, method: &str, path: &str, body: Option<&Value>, key: &str) -> Outcome {
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return Outcome::Refused("invalid_input".into(), format!("unknown method {method}"));
    };
    let build = |token: &str| {
        let request =
            inner.http.request(method.clone(), url(inner, path)).bearer_auth(token).header("idempotency-key", key);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    };
    let mut refresh = false;
    let response = loop {
        let token = match inner.credentials.access_token_of(&inner.owner, refresh).await {
            Ok(token) => token,
            Err(ClientError::SignedOut) => return Outcome::retry("signed_out", false),
            Err(e) => return Outcome::retry(e.to_string(), false),
        };
        match build(&token).send().await {
            // A refused access token: the write did not run. Refreshed once.
            Ok(response) if response.status().as_u16() == 401 && !refresh => refresh = true,
            Ok(response) => break response,
            Err(e) => return Outcome::retry(e.to_string(), !e.is_connect()),
        }
    };
    let status = response.status().as_u16();
    if response.status().is_success() {
        let text = response.text().await.unwrap_or_default();
        return Outcome::Done(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
    match server_error(response).await {
        // Busy, throttled, failing, or a write of the same key still in progress: not refused.
        ClientError::Server { status: 408 | 409 | 429 | 500..=599, code, .. }
            if status != 409 || code == "idempotency_key_in_progress" =>
        {
            // Still running, or answered by something in front of the server (a proxy's 502/504):
            // the server itself may have applied it. Its own failures keep no key.
            let delivered = code == "idempotency_key_in_progress" || code == "unexpected_response";
            Outcome::retry(code, delivered)
        }
        ClientError::Server { code, message, .. } => Outcome::Refused(code, message),
        e => Outcome::retry(e.to_string(), true),
    }
}

/// Whether a read failed because the server cannot answer now — unreachable, busy, throttled,
/// failing, or a proxy in front of it answering for it — so the cached copy stands in. A refusal
/// (403, 404, 422 …) is an answer, not an outage.
pub(crate) fn unavailable(e: &ClientError) -> bool {
    matches!(e, ClientError::Network(_) | ClientError::Server { status: 408 | 429 | 500..=599, .. })
}

fn network(e: reqwest::Error) -> ClientError {
    ClientError::Network(e.to_string())
}
