//! A hand-made server on 127.0.0.1 for the client's tests that need one to misbehave in a precise
//! way: every request comes to the test as its head and its TCP stream, and the test answers it
//! as it likes — plain HTTP, or a WebSocket upgrade after which it may write raw frames (a large
//! one a piece at a time, as a slow link brings it). Each test binary uses a part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mingizuk_client::social::{Liveness, Social};
use mingizuk_client::sync::{Credentials, ServerApi, Session, TokenStore, UserInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// One request to the server, its head read, its body (if any) not.
pub struct Request {
    pub method: String,
    /// The path and query.
    pub target: String,
    /// `Sec-WebSocket-Key` of an upgrade.
    pub websocket_key: Option<String>,
    pub stream: TcpStream,
}

impl Request {
    /// Answers `status` with a JSON `body`, then closes the connection.
    pub async fn answer(mut self, status: u16, body: &str) {
        let head = format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n",
            body.len()
        );
        let _ = self.stream.write_all(format!("{head}{body}").as_bytes()).await;
        let _ = self.stream.shutdown().await;
    }

    /// Accepts the WebSocket upgrade; the stream then carries frames.
    pub async fn upgrade(mut self) -> TcpStream {
        let key = self.websocket_key.expect("an upgrade");
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
             sec-websocket-accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        self.stream.write_all(head.as_bytes()).await.unwrap();
        self.stream
    }

    /// Accepts the WebSocket upgrade and speaks WebSocket on it.
    pub async fn websocket(self) -> WebSocketStream<TcpStream> {
        WebSocketStream::from_raw_socket(self.upgrade().await, Role::Server, None).await
    }
}

/// Listens on 127.0.0.1: the server's base URL, and its requests as they come.
pub async fn listen() -> (String, mpsc::UnboundedReceiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Some(request) = read_head(stream).await {
                    let _ = tx.send(request);
                }
            });
        }
    });
    (url, rx)
}

async fn read_head(mut stream: TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.ok()?);
        if head.len() > 16 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let websocket_key = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key").then(|| value.trim().to_owned())
    });
    Some(Request { method, target, websocket_key, stream })
}

/// Writes one unmasked server frame with `opcode` (1 text, 2 binary) carrying `payload` (64 KiB or
/// more) in `pieces` pieces, one every `every`: a large message on a slow link. Whether every
/// piece was written.
pub async fn trickle_frame(stream: &mut TcpStream, opcode: u8, payload: &[u8], pieces: usize, every: Duration) -> bool {
    assert!(payload.len() >= 65_536, "the length is written in its 8-byte form");
    let mut bytes = vec![0x80 | opcode, 127];
    bytes.extend((payload.len() as u64).to_be_bytes());
    bytes.extend_from_slice(payload);
    for (n, piece) in bytes.chunks(bytes.len().div_ceil(pieces)).enumerate() {
        if n > 0 {
            tokio::time::sleep(every).await;
        }
        if stream.write_all(piece).await.is_err() {
            return false;
        }
    }
    true
}

/// Saves in `dir` a session of mingi's on the server at `url`, as signing in would: its access
/// token never expires, so it is never refreshed.
pub fn save_session(url: &str, dir: &Path) {
    let session = Session {
        server: url.into(),
        user: UserInfo {
            id: "u1".into(), email: "mingi@example.com".into(), nickname: "밍기".into(), provider: None
        },
        account_root: uuid::Uuid::from_u128(7),
        access_token: "access".into(),
        refresh_token: "refresh".into(),
        access_expires_at_ms: i64::MAX,
    };
    TokenStore::in_dir(dir).save(&session).unwrap();
}

/// The social side of a device signed in to the server at `url` (never asked for a new token),
/// not started.
pub async fn social(url: &str, dir: &Path, liveness: Liveness) -> Social {
    save_session(url, dir);
    let credentials = Arc::new(Credentials::new(ServerApi::new(url).unwrap(), TokenStore::in_dir(dir)).unwrap());
    Social::open_with(credentials, dir, liveness).await.unwrap()
}
