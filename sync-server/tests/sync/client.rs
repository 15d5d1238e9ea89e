//! The sync tests' helpers: a real server on 127.0.0.1:0 over SQLite with the sync limits given,
//! users with access tokens, and a raw WebSocket client speaking the sync protocol.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use futures_util::{SinkExt, StreamExt};
use mingizuk_core::wire::{self, Message};
use mingizuk_server::auth::SignUp;
use mingizuk_server::storage;
use mingizuk_server::sync::{Limits, Sync};
use mingizuk_server::{AppState, Config};
use serde_json::Value;
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{self, Message as Frame};

pub const SECRET: &str = "sync-test-secret-of-at-least-32-bytes";

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Server {
    address: SocketAddr,
    pub state: AppState,
    _dir: TempDir,
}

pub async fn server_with(limits: Limits) -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
        ("MINGIZUK_ALLOWED_ORIGINS".to_owned(), "https://app.mingizuk.example".to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    let mut state = AppState::new(config, storage.clone());
    state.sync = Arc::new(Sync::new(storage, limits, None).expect("sync"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let serving = state.clone();
    tokio::spawn(async move {
        let _ = mingizuk_server::server::serve(listener, serving, std::future::pending()).await;
    });
    Server { address, state, _dir: dir }
}

pub async fn server() -> Server {
    server_with(Limits::default()).await
}

impl Server {
    pub async fn user(&self, name: &str) -> String {
        let form = SignUp {
            email: format!("{name}@example.com"),
            password: "tiny daily squats".into(),
            nickname: name.into(),
        };
        self.state.auth.sign_up(&*self.state.storage, form).await.expect("sign up").access_token
    }

    fn url(&self, query: &str) -> String {
        format!("ws://{}/v1/sync{query}", self.address)
    }

    /// Opens `/v1/sync` with the given headers; the HTTP refusal's status and error code if any.
    pub async fn open(&self, query: &str, headers: &[(&str, String)]) -> Result<Socket, (u16, String)> {
        let mut request = self.url(query).into_client_request().expect("request");
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
            request.headers_mut().insert(name, HeaderValue::from_str(value).expect("header"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tungstenite::Error::Http(response)) => {
                let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("the refusal is in the API's error format");
                Err((response.status().as_u16(), body["error"]["code"].as_str().unwrap_or_default().to_owned()))
            }
            Err(e) => panic!("connect: {e}"),
        }
    }

    pub async fn connect(&self, token: &str) -> Socket {
        let mut socket = self.open("", &[("authorization", format!("Bearer {token}"))]).await.expect("upgrade");
        send(&mut socket, join()).await;
        match next(&mut socket).await {
            Some(Message::Peer { selected_protocol_version, .. }) => assert_eq!(selected_protocol_version, "1"),
            other => panic!("expected peer, got {other:?}"),
        }
        socket
    }
}

impl Server {
    /// [`Server::connect`] through a socket whose receive buffer is 4 KiB, so that what the client
    /// does not read fills the kernel's buffers soon.
    pub async fn connect_narrow(&self, token: &str) -> Socket {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        let stream = socket.connect(self.address).await.expect("connect");
        let mut request = self.url("").into_client_request().expect("request");
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
        request.headers_mut().insert("authorization", bearer);
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (mut socket, _) = tokio_tungstenite::client_async(request, stream).await.expect("upgrade");
        send(&mut socket, join()).await;
        assert!(matches!(next(&mut socket).await, Some(Message::Peer { .. })), "peer");
        socket
    }
}

pub fn join() -> Message {
    Message::Join { sender_id: "test-peer".into(), supported_protocol_versions: vec!["1".into()], peer_metadata: None }
}

pub async fn send(socket: &mut Socket, message: Message) {
    socket.send(Frame::Binary(message.encode().into())).await.expect("send");
}

/// The next protocol message, or `None` once the server closed.
pub async fn next(socket: &mut Socket) -> Option<Message> {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.expect("answer in time")? {
            Ok(Frame::Binary(bytes)) => return Some(Message::decode(&bytes).expect("a protocol message")),
            Ok(Frame::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Reads until the server closes; returns the close code and reason.
pub async fn close_of(socket: &mut Socket) -> (u16, String) {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.expect("close in time") {
            Some(Ok(Frame::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

pub fn document() -> (String, AutoCommit) {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", "squats").expect("put");
    doc.commit();
    (wire::document_id(uuid::Uuid::new_v4()), doc)
}

pub fn sync_message(document_id: &str, data: Vec<u8>) -> Message {
    Message::Sync { sender_id: "test-peer".into(), target_id: "server".into(), document_id: document_id.into(), data }
}

/// Syncs `doc` to the server until it confirms heads covering the document's; returns the
/// messages the server sent.
pub async fn push(socket: &mut Socket, id: &str, doc: &mut AutoCommit) -> Vec<Message> {
    push_with(socket, id, doc, &mut automerge::sync::State::new()).await
}

/// [`push`] with the sync state of an ongoing session with the server (only what is new is sent).
pub async fn push_with(
    socket: &mut Socket,
    id: &str,
    doc: &mut AutoCommit,
    state: &mut automerge::sync::State,
) -> Vec<Message> {
    let mut seen = Vec::new();
    if let Some(m) = doc.sync().generate_sync_message(state) {
        send(socket, sync_message(id, m.encode())).await;
    }
    while state.their_heads.as_ref() != Some(&doc.get_heads()) {
        let Some(message) = next(socket).await else { break };
        seen.push(message.clone());
        let Message::Sync { data, .. } = message else { break };
        answer(socket, id, doc, state, &data).await;
    }
    seen
}

/// Applies the server's sync message `data` to `doc` and sends whatever the protocol asks next.
pub async fn answer(
    socket: &mut Socket,
    id: &str,
    doc: &mut AutoCommit,
    state: &mut automerge::sync::State,
    data: &[u8],
) {
    let m = automerge::sync::Message::decode(data).expect("sync message");
    doc.sync().receive_sync_message(state, m).expect("receive");
    if let Some(m) = doc.sync().generate_sync_message(state) {
        send(socket, sync_message(id, m.encode())).await;
    }
}
