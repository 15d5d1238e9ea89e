//! A client of the account routes, on SQLite through `oneshot`, as the auth test binaries use it.
// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use mingizuk_server::storage;
use mingizuk_server::{AppState, Config, app};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

pub const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";
pub const PASSWORD: &str = "tiny daily squats";

pub struct Server {
    pub state: AppState,
    _dir: TempDir,
}

pub async fn server() -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    Server { state: AppState::new(config, storage), _dir: dir }
}

/// One request as a client at `ip` would send it.
pub struct Call<'a> {
    method: Method,
    uri: &'a str,
    token: Option<&'a str>,
    body: Option<Value>,
    ip: [u8; 4],
}

pub fn call(method: Method, uri: &str) -> Call<'_> {
    Call { method, uri, token: None, body: None, ip: [192, 0, 2, 1] }
}

impl<'a> Call<'a> {
    pub fn bearer(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn sent_from(mut self, ip: [u8; 4]) -> Self {
        self.ip = ip;
        self
    }

    pub async fn send(self, server: &Server) -> (StatusCode, Value) {
        let mut request = Request::builder().method(self.method).uri(self.uri);
        if let Some(token) = self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match self.body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).expect("request");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((self.ip, 40_000))));
        let response = app(server.state.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        (status, json)
    }
}

pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
}

pub async fn sign_up(server: &Server, email: &str, nickname: &str) -> Value {
    let (status, body) = call(Method::POST, "/v1/auth/signup")
        .json(json!({ "email": email, "password": PASSWORD, "nickname": nickname }))
        .send(server)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

pub async fn log_in(server: &Server, email: &str, password: &str) -> (StatusCode, Value) {
    call(Method::POST, "/v1/auth/login").json(json!({ "email": email, "password": password })).send(server).await
}

pub async fn refresh(server: &Server, refresh_token: &Value) -> (StatusCode, Value) {
    call(Method::POST, "/v1/auth/refresh").json(json!({ "refresh_token": refresh_token })).send(server).await
}

pub fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}
