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
    /// Not known to be done (no answer, the server busy or failing): try again later.
    Retry(String),
}

/// One attempt at an HTTP write carrying its idempotency key.
pub(super) async fn write(inner: &Inner, method: &str, path: &str, body: Option<&Value>, key: &str) -> Outcome {
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return Outcome::Refused("invalid_input".into(), format!("unknown method {method}"));
    };
    let result = send(inner, |token| {
        let request =
            inner.http.request(method.clone(), url(inner, path)).bearer_auth(token).header("idempotency-key", key);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    })
    .await;
    let response = match result {
        Ok(response) => response,
        Err(ClientError::SignedOut) => return Outcome::Retry("signed_out".into()),
        Err(e) => return Outcome::Retry(e.to_string()),
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
            Outcome::Retry(code)
        }
        ClientError::Server { code, message, .. } => Outcome::Refused(code, message),
        e => Outcome::Retry(e.to_string()),
    }
}

fn network(e: reqwest::Error) -> ClientError {
    ClientError::Network(e.to_string())
}
