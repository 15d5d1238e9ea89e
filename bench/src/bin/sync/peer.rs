//! A bare automerge-repo protocol client over one WebSocket (the `core::wire` codec), as light as a
//! load generator must be: join, then sync messages for documents it holds as `AutoCommit`s. Also
//! account sign-up over HTTP for our server.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use mingizuk_client::core::automerge::sync::{self, SyncDoc};
use mingizuk_client::core::automerge::{AutoCommit, ChangeHash};
use mingizuk_client::core::wire::{self, Message};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Message as Frame, protocol::WebSocketConfig};

/// Longer than any answer may take; past it the run fails instead of hanging.
const ANSWER: Duration = Duration::from_secs(60);

/// Where a client connects: a sync URL, with our server's bearer token or none (the reference
/// server has no accounts).
#[derive(Clone)]
pub struct Target {
    pub ws_url: String,
    pub bearer: Option<String>,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Peer {
    socket: Socket,
    peer_id: String,
    server_peer: String,
}

impl Peer {
    /// Opens the socket and does the `join` / `peer` handshake.
    pub async fn connect(target: &Target) -> Result<Peer> {
        let mut request = target.ws_url.as_str().into_client_request()?;
        if let Some(token) = &target.bearer {
            request.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
        }
        let config = WebSocketConfig::default().max_message_size(Some(256 << 20)).max_frame_size(Some(256 << 20));
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .with_context(|| format!("connecting to {}", target.ws_url))?;
        let peer_id = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let mut peer = Peer { socket, peer_id, server_peer: String::new() };
        peer.send(Message::Join {
            sender_id: peer.peer_id.clone(),
            supported_protocol_versions: vec![wire::PROTOCOL_VERSION.to_owned()],
            peer_metadata: None,
        })
        .await?;
        match peer.next().await? {
            Message::Peer { sender_id, .. } => peer.server_peer = sender_id,
            other => bail!("expected peer, got {other:?}"),
        }
        Ok(peer)
    }

    async fn send(&mut self, message: Message) -> Result<()> {
        self.socket.send(Frame::Binary(message.encode().into())).await.context("sending")
    }

    pub async fn send_sync(&mut self, document_id: &str, data: Vec<u8>) -> Result<()> {
        self.send(Message::Sync {
            sender_id: self.peer_id.clone(),
            target_id: self.server_peer.clone(),
            document_id: document_id.to_owned(),
            data,
        })
        .await
    }

    /// The next protocol message.
    pub async fn next(&mut self) -> Result<Message> {
        loop {
            let frame = tokio::time::timeout(ANSWER, self.socket.next())
                .await
                .context("no answer from the server in time")?
                .context("the server closed the connection")??;
            match frame {
                Frame::Binary(bytes) => return Ok(Message::decode(&bytes)?),
                Frame::Close(close) => bail!("the server closed the connection: {close:?}"),
                _ => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// Whether the server's last heads cover `heads` (the acknowledgement: our server sends no heads
/// it has not committed).
pub fn acknowledged(state: &sync::State, heads: &[ChangeHash]) -> bool {
    state.their_heads.as_ref().is_some_and(|theirs| heads.iter().all(|h| theirs.contains(h)))
}

/// Applies one server message to `doc` and sends whatever the protocol asks next.
pub async fn answer(
    peer: &mut Peer,
    document_id: &str,
    doc: &mut AutoCommit,
    state: &mut sync::State,
    message: Message,
) -> Result<()> {
    match message {
        Message::Sync { data, .. } => {
            doc.sync().receive_sync_message(state, sync::Message::decode(&data)?)?;
            if let Some(reply) = doc.sync().generate_sync_message(state) {
                peer.send_sync(document_id, reply.encode()).await?;
            }
            Ok(())
        }
        Message::DocUnavailable { .. } => bail!("the server says document {document_id} is unavailable"),
        Message::Error { message, .. } => bail!("the server sent an error: {message}"),
        _ => Ok(()),
    }
}

/// Sends what `doc` has that the server lacks and waits until the server's heads cover it.
pub async fn push(peer: &mut Peer, document_id: &str, doc: &mut AutoCommit, state: &mut sync::State) -> Result<()> {
    let heads = doc.get_heads();
    if let Some(message) = doc.sync().generate_sync_message(state) {
        peer.send_sync(document_id, message.encode()).await?;
    }
    while !acknowledged(state, &heads) {
        let message = peer.next().await?;
        answer(peer, document_id, doc, state, message).await?;
    }
    Ok(())
}

/// Creates an account on our server; returns its access token.
pub async fn sign_up(http: &reqwest::Client, base: &str, email: &str, nickname: &str) -> Result<String> {
    let body = serde_json::json!({ "email": email, "password": crate::PASSWORD, "nickname": nickname });
    let response = http.post(format!("{base}/v1/auth/signup")).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("sign-up of {email} failed: HTTP {} {}", response.status(), response.text().await.unwrap_or_default());
    }
    let pair: serde_json::Value = response.json().await?;
    pair["access_token"].as_str().map(str::to_owned).context("an access token")
}
