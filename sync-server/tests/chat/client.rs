//! The chat tests' helpers: a real server on 127.0.0.1:0 over the test's database, people with
//! access tokens, meetups made through storage, a raw WebSocket chat client and a small HTTP one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mingizuk_server::auth::SignUp;
use mingizuk_server::chat::{Chat, Limits};
use mingizuk_server::config::RedisConfig;
use mingizuk_server::storage::Storage;
use mingizuk_server::storage::chat::{MeetupId, Sender};
use mingizuk_server::{AppState, Config};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message as Frame};

use crate::common::TestDb;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a frame it expects.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Server {
    pub address: SocketAddr,
    pub state: AppState,
    http: reqwest::Client,
    _dir: TempDir,
}

/// A person of a test: as the room shows them, and their access token.
#[derive(Clone)]
pub struct Person {
    pub sender: Sender,
    pub token: String,
}

impl Server {
    pub async fn start(db: &TestDb, limits: Limits) -> Server {
        Self::start_instance(db.shared(), limits, None).await
    }

    /// One instance of a deployment: on `storage`, fanning its rooms out through `redis` if given.
    /// Every instance signs tokens with the same key, so a person's token works on each.
    pub async fn start_instance(storage: Arc<dyn Storage>, limits: Limits, redis: Option<&RedisConfig>) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let env: HashMap<String, String> = [
            ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
            ("MINGIZUK_JWT_SECRET".to_owned(), "chat-test-secret-of-at-least-32-bytes".to_owned()),
        ]
        .into();
        let config = Config::from_sources(None, &env).expect("configuration");
        let mut state = AppState::new(config, Arc::clone(&storage));
        state.chat = Arc::new(Chat::new(storage, limits, redis).expect("chat"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let serving = state.clone();
        tokio::spawn(async move {
            let _ = mingizuk_server::server::serve(listener, serving, std::future::pending()).await;
        });
        Server { address, state, http: reqwest::Client::new(), _dir: dir }
    }

    pub fn storage(&self) -> &dyn Storage {
        &*self.state.storage
    }

    pub async fn person(&self, name: &str) -> Person {
        let form = SignUp {
            email: format!("{name}@example.com"),
            password: "tiny daily squats".into(),
            nickname: name.into(),
        };
        let session = self.state.auth.sign_up(self.storage(), form).await.expect("sign up");
        Person { sender: Sender { id: session.user.id, nickname: session.user.nickname }, token: session.access_token }
    }

    /// A meetup hosted by `host` that ends `ends_in` from now (in the past when negative).
    pub async fn meetup(&self, host: &Person, ends_in: chrono::Duration, member_limit: Option<u32>) -> MeetupId {
        crate::common::meetup(self.storage(), host.sender.id, member_limit, ends_in).await
    }

    /// Sends an HTTP request as `person`; the status and the JSON body (`Null` when empty).
    pub async fn call(&self, person: &Person, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request =
            self.http.request(method, format!("http://{}{path}", self.address)).bearer_auth(&person.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Opens `/v1/chat` with `token` as a bearer header (or none); the refusal's status and code.
    pub async fn open(&self, token: Option<&str>, query: &str) -> Result<Client, (u16, String)> {
        let mut request = format!("ws://{}/v1/chat{query}", self.address).into_client_request().expect("request");
        if let Some(token) = token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
            request.headers_mut().insert("authorization", value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Client { socket }),
            Err(tungstenite::Error::Http(response)) => {
                let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("the refusal is in the API's error format");
                Err((response.status().as_u16(), body["error"]["code"].as_str().unwrap_or_default().to_owned()))
            }
            Err(e) => panic!("connect: {e}"),
        }
    }

    /// Opens `/v1/chat` over a socket with a tiny receive buffer, so that a client that stops
    /// reading pushes back on the server at once instead of after megabytes of kernel buffers.
    pub async fn connect_narrow(&self, person: &Person) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        let stream = socket.connect(self.address).await.expect("connect");
        let mut request = format!("ws://{}/v1/chat", self.address).into_client_request().expect("request");
        let value = HeaderValue::from_str(&format!("Bearer {}", person.token)).expect("header");
        request.headers_mut().insert("authorization", value);
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (socket, _) = tokio_tungstenite::client_async(request, stream).await.expect("upgrade");
        Client { socket }
    }

    pub async fn connect(&self, person: &Person) -> Client {
        self.open(Some(&person.token), "").await.expect("upgrade")
    }
}

pub struct Client {
    socket: Socket,
}

/// What a client heard: a frame, or the close code and reason.
#[derive(Debug)]
pub enum Heard {
    Frame(Value),
    Closed(u16, String),
}

impl Client {
    pub async fn raw(&mut self, frame: Frame) {
        self.socket.send(frame).await.expect("send");
    }

    pub async fn frame(&mut self, frame: Value) {
        self.raw(Frame::Text(frame.to_string().into())).await;
    }

    pub async fn subscribe(&mut self, meetup: MeetupId, since_seq: i64) {
        self.frame(json!({ "type": "subscribe", "meetup_id": meetup, "since_seq": since_seq })).await;
    }

    /// Sends `text` with a new client id; returns the id.
    pub async fn say(&mut self, meetup: MeetupId, text: &str) -> uuid::Uuid {
        let client_id = uuid::Uuid::new_v4();
        self.send_as(meetup, client_id, text).await;
        client_id
    }

    /// Writes ~6 MB of long messages, 100 at a time, each window acknowledged before the next:
    /// more than the kernel's socket buffers (up to 4 MB here) hold for a member who stops reading.
    pub async fn flood(&mut self, meetup: MeetupId) {
        let text = "🏃".repeat(250);
        for _ in 0..50 {
            for _ in 0..100 {
                self.say(meetup, &text).await;
            }
            for _ in 0..100 {
                self.next_of("ack").await;
            }
        }
    }

    pub async fn send_as(&mut self, meetup: MeetupId, client_id: uuid::Uuid, text: &str) {
        self.frame(json!({ "type": "send", "meetup_id": meetup, "client_id": client_id, "text": text })).await;
    }

    pub async fn hear(&mut self) -> Heard {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.socket.next()).await.expect("a frame in time");
            match frame {
                Some(Ok(Frame::Text(text))) => return Heard::Frame(serde_json::from_str(&text).expect("JSON frame")),
                Some(Ok(Frame::Close(close))) => {
                    let (code, reason) = close.map(|c| (u16::from(c.code), c.reason.to_string())).unwrap_or_default();
                    return Heard::Closed(code, reason);
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Heard::Closed(0, String::new()),
            }
        }
    }

    /// The next frame; panics if the connection closed instead.
    pub async fn next(&mut self) -> Value {
        match self.hear().await {
            Heard::Frame(frame) => frame,
            Heard::Closed(code, reason) => panic!("closed ({code} {reason}) while a frame was expected"),
        }
    }

    /// The next frame of `kind` ("message", "ack", "notice", "error"), skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Waits until nothing arrives for a moment; what arrived meanwhile.
    pub async fn quiet(&mut self) -> Vec<Value> {
        let mut heard = Vec::new();
        while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_millis(300), self.socket.next()).await {
            if let Frame::Text(text) = frame {
                heard.push(serde_json::from_str(&text).expect("JSON frame"));
            }
        }
        heard
    }
}
