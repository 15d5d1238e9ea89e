//! A server state on a fresh SQLite file with signed-in users made directly in storage (no
//! password hashing), for the HTTP tests of issue 4's routes, and a `send` that reads any answer.
// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use mingizuk_server::storage::{self, NewUser, UserId};
use mingizuk_server::{AppState, Config};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

pub struct Server {
    pub state: AppState,
    pub dir: TempDir,
}

/// A server whose configuration is `env` over the defaults, its data in a temporary folder.
pub async fn server(env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.insert("MINGIZUK_DATA_DIR".into(), dir.path().display().to_string());
    env.insert("MINGIZUK_JWT_SECRET".into(), "test-secret-of-at-least-32-bytes-for-hs256".into());
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    Server { state: AppState::new(config, storage), dir }
}

impl Server {
    /// A new account named `nickname` and an access token for it.
    pub async fn sign_in(&self, nickname: &str) -> (UserId, String) {
        let new = NewUser {
            id: UserId::random(),
            email: format!("{nickname}@example.com"),
            nickname: nickname.to_owned(),
            password_hash: None,
        };
        let user = self.state.storage.create_user(&new).await.expect("create user");
        let (token, _) = self.state.auth.keys.issue_access(user.id, Utc::now()).expect("access token");
        (user.id, token)
    }
}

/// A request with an optional bearer token and extra headers.
pub fn request(method: Method, uri: &str, token: Option<&str>, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).expect("request")
}

/// Sends `request` through `app`; the body as bytes.
pub async fn send_raw(app: Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts.status, parts.headers, bytes.to_vec())
}

/// Sends `request` through `app`; the body as JSON (`Null` when empty).
pub async fn send(app: Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = send_raw(app, request).await;
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    (status, headers, json)
}

/// The error code of an API error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}
