//! The meetup HTTP tests' harness: the real server on 127.0.0.1:0 over a test database, a real
//! HTTP client, and people with signed access tokens (made in storage, so no password hashing).

use std::collections::HashMap;

use chrono::Utc;
use mingizuk_server::storage::chat::Sender;
use mingizuk_server::{AppState, Config, server};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{TestDb, person};

const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";

pub struct Api {
    base: String,
    http: reqwest::Client,
    state: AppState,
    db: TestDb,
    _dir: TempDir,
}

/// Someone signed in: who they are and their access token.
pub struct Person {
    pub sender: Sender,
    token: String,
}

/// A valid meetup body at `address`, starting in 2030.
pub fn meetup_body(title: &str, address: &str) -> Value {
    json!({
        "title": title,
        "contents": "토요일 아침 5km, 초보 환영",
        "starts_at": "2030-05-01T09:00:00Z",
        "ends_at": "2030-05-01T11:00:00+00:00",
        "location": { "place_name": "여의나루역", "address": address, "lat": 37.5271, "lng": 126.9326 }
    })
}

/// The answer is the error `code` with `expected` status, in the API's error format.
#[allow(dead_code)] // Not every test binary checks an error.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!((status, body["error"]["code"].as_str()), (expected, Some(code)), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

impl Api {
    pub async fn start(db: &TestDb) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let env: HashMap<String, String> = [
            ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
            ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
        ]
        .into();
        let config = Config::from_sources(None, &env).expect("configuration");
        let state = AppState::new(config, db.shared());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(server::serve(listener, state.clone(), std::future::pending()));
        Self { base, http: reqwest::Client::new(), state, db: db.clone(), _dir: dir }
    }

    pub async fn person(&self, name: &str) -> Person {
        let sender = person(self.db.storage(), name).await;
        let (token, _) = self.state.auth.keys.issue_access(sender.id, Utc::now()).expect("token");
        Person { sender, token }
    }

    async fn send(&self, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        (status, body)
    }

    pub async fn call(&self, who: &Person, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(Some(&who.token), method, path, body).await
    }

    #[allow(dead_code)] // Not every test binary calls without a token.
    pub async fn anonymous(&self, method: Method, path: &str) -> (StatusCode, Value) {
        self.send(None, method, path, None).await
    }

    /// Creates a meetup and returns it as answered (201).
    pub async fn create(&self, host: &Person, body: Value) -> Value {
        let (status, meetup) = self.call(host, Method::POST, "/v1/meetups", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{meetup}");
        meetup
    }

    /// One page of a list: its items and the next cursor.
    pub async fn page(&self, who: &Person, path: &str) -> (Vec<Value>, Option<String>) {
        let (status, page) = self.call(who, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().expect("items").clone();
        (items, page["next_cursor"].as_str().map(str::to_owned))
    }

    /// Joins through storage: the join route belongs to the chat module.
    #[allow(dead_code)] // Not every test binary joins.
    pub async fn join(&self, meetup: i64, who: &Person) {
        self.db.storage().join_meetup(meetup, &who.sender, Utc::now()).await.expect("join");
    }
}
