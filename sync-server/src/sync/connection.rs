//! One WebSocket speaking the automerge-repo protocol for one authenticated user: the `join` /
//! `peer` handshake, then sync messages per document through the [`Hub`], with the connection's
//! limits (message size, rate, idle time, number of documents) enforced here. The peer id the
//! client names itself is echoed back as `targetId` and never used to decide anything.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::sync;
use axum::extract::ws::{Message as Frame, WebSocket};
use mingizuk_core::wire::{self, Message};

use super::hub::{DocEntry, DocError, Hub};
use super::signal::{Ephemeral, Signal};
use super::{Close, close};
use crate::rate::TokenBucket;
use crate::storage::{DocumentId, UserId};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The limits one connection lives under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest message accepted; a larger one closes the connection (1009).
    pub max_message_bytes: usize,
    /// Sustained messages per second, and the burst allowed above it.
    pub messages_per_second: f64,
    pub burst: f64,
    /// A connection that sends nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// Documents one connection may sync at once.
    pub max_documents: usize,
    /// How long one message (or ping) may wait for the client to read, plus a second for every
    /// `min_read_rate` bytes of it (a large document on a slow link must still get through: a
    /// new connection would send the same message again); past it the connection is too slow and
    /// is closed (1013). A device that stops reading for good would otherwise hold its task, its
    /// socket buffers and its documents for as long as TCP keeps the connection.
    pub write_timeout: Duration,
    /// The slowest reading the write timeout allows for, in bytes per second (a poor mobile link;
    /// by default a 16 MiB message may take 30 s + 17 min).
    pub min_read_rate: f64,
    /// How often the connection checks that its account was not deleted since it opened.
    pub account_recheck: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024 * 1024,
            messages_per_second: 2_000.0,
            burst: 10_000.0,
            idle_timeout: Duration::from_secs(120),
            ping_interval: mingizuk_core::limits::WEBSOCKET_PING_INTERVAL,
            max_documents: 10_000,
            write_timeout: Duration::from_secs(30),
            min_read_rate: 16.0 * 1024.0,
            account_recheck: super::ACCOUNT_RECHECK,
        }
    }
}

struct PeerDoc {
    entry: Arc<DocEntry>,
    state: sync::State,
}

struct Connection {
    id: u64,
    user: UserId,
    hub: Arc<Hub>,
    signal: Arc<Signal>,
    server_peer: String,
    client_peer: String,
    limits: Limits,
    docs: HashMap<DocumentId, PeerDoc>,
    rate: TokenBucket,
}

/// The longest peer id (`join`'s `senderId`) and ephemeral `sessionId` taken: names, which
/// automerge-repo makes a few dozen bytes long; a longer ephemeral session id drops the message.
pub const MAX_NAME_BYTES: usize = 256;

/// Runs a connection until it closes. Everything the peer was syncing is released at the end.
pub async fn serve(mut socket: WebSocket, hub: Arc<Hub>, user: UserId, server_peer: String, limits: Limits) {
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let close = match handshake(&mut socket, &server_peer, &limits).await {
        Ok(client_peer) => {
            tracing::info!(conn = id, user = %user, peer = %client_peer, "sync peer joined");
            let mut conn = Connection {
                id,
                user,
                hub,
                signal: Signal::new(user),
                server_peer,
                client_peer,
                rate: TokenBucket::new(limits.messages_per_second, limits.burst),
                limits,
                docs: HashMap::new(),
            };
            let close = conn.run(&mut socket).await;
            conn.release().await;
            close
        }
        Err(close) => close,
    };
    tracing::info!(conn = id, code = close.0, reason = close.1, "sync connection closed");
    close.send(&mut socket).await;
}

/// Waits for `join` and answers `peer`; returns the client's peer id.
async fn handshake(socket: &mut WebSocket, server_peer: &str, limits: &Limits) -> Result<String, Close> {
    let first = match tokio::time::timeout(limits.idle_timeout, socket.recv()).await {
        Err(_) => return Err(Close(close::NORMAL, "idle_timeout")),
        Ok(None) => return Err(Close(close::NORMAL, "closed")),
        Ok(Some(Err(e))) => return Err(Close::read_failure(e)),
        Ok(Some(Ok(frame))) => frame,
    };
    let Frame::Binary(bytes) = first else { return Err(Close(close::UNSUPPORTED, "binary_frames_only")) };
    if bytes.len() > limits.max_message_bytes {
        return Err(Close(close::TOO_BIG, "message_too_large"));
    }
    let Ok(Message::Join { sender_id, supported_protocol_versions, .. }) = Message::decode(&bytes) else {
        return Err(Close(close::PROTOCOL, "join_expected"));
    };
    // Passed on with every ephemeral message and logged: a name, not a payload.
    if sender_id.len() > MAX_NAME_BYTES {
        return Err(Close(close::PROTOCOL, "invalid_peer_id"));
    }
    let supported = supported_protocol_versions.is_empty()
        || supported_protocol_versions.iter().any(|v| v == wire::PROTOCOL_VERSION);
    if !supported {
        let error = Message::Error {
            sender_id: Some(server_peer.to_owned()),
            target_id: Some(sender_id),
            message: "unsupported protocol version".into(),
        };
        let _ = socket.send(Frame::Binary(error.encode().into())).await;
        return Err(Close(close::PROTOCOL, "unsupported_protocol_version"));
    }
    let peer = Message::Peer {
        sender_id: server_peer.to_owned(),
        target_id: sender_id.clone(),
        selected_protocol_version: wire::PROTOCOL_VERSION.to_owned(),
        peer_metadata: None,
    };
    socket.send(Frame::Binary(peer.encode().into())).await?;
    Ok(sender_id)
}

impl Connection {
    async fn run(&mut self, socket: &mut WebSocket) -> Close {
        let mut ping = tokio::time::interval(self.limits.ping_interval);
        ping.tick().await;
        let mut recheck = tokio::time::interval(self.limits.account_recheck);
        recheck.tick().await;
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                frame = socket.recv() => {
                    last_heard = Instant::now();
                    let frame = match frame {
                        None | Some(Ok(Frame::Close(_))) => return Close(close::NORMAL, "closed"),
                        Some(Err(e)) => return Close::read_failure(e),
                        Some(Ok(frame)) => frame,
                    };
                    let bytes = match frame {
                        Frame::Binary(bytes) => bytes,
                        Frame::Ping(_) | Frame::Pong(_) => continue,
                        Frame::Text(_) | Frame::Close(_) => return Close(close::UNSUPPORTED, "binary_frames_only"),
                    };
                    if bytes.len() > self.limits.max_message_bytes {
                        return Close(close::TOO_BIG, "message_too_large");
                    }
                    if !self.rate.take() {
                        let _ = self.send(socket, self.error("rate_limited")).await;
                        return Close(close::POLICY, "rate_limited");
                    }
                    if let Err(close) = self.handle(socket, &bytes).await {
                        return close;
                    }
                }
                wake = self.signal.changed() => {
                    for doc in wake.changed {
                        if let Err(close) = self.push(socket, &doc).await {
                            return close;
                        }
                    }
                    for message in wake.ephemeral {
                        let message = Message::Ephemeral {
                            sender_id: message.sender_id,
                            target_id: self.client_peer.clone(),
                            document_id: message.document.as_str().to_owned(),
                            session_id: message.session_id,
                            count: message.count,
                            data: message.data.to_vec(),
                        };
                        if let Err(close) = self.send(socket, message).await {
                            return close;
                        }
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > self.limits.idle_timeout {
                        return Close(close::NORMAL, "idle_timeout");
                    }
                    if let Err(close) = self.write(socket, Frame::Ping(Vec::new().into())).await {
                        return close;
                    }
                }
                _ = recheck.tick() => {
                    if super::account_deleted(self.hub.storage(), self.user).await {
                        return Close(close::POLICY, "account_deleted");
                    }
                }
            }
        }
    }

    async fn handle(&mut self, socket: &mut WebSocket, bytes: &[u8]) -> Result<(), Close> {
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(e) => {
                tracing::debug!(conn = self.id, error = %e, "undecodable message");
                let _ = self.send(socket, self.error("invalid_message")).await;
                return Err(Close(close::PROTOCOL, "invalid_message"));
            }
        };
        let (document_id, data, request) = match message {
            Message::Request { document_id, data, .. } => (document_id, data, true),
            Message::Sync { document_id, data, .. } => (document_id, data, false),
            Message::Leave { .. } => return Err(Close(close::NORMAL, "left")),
            Message::Error { .. } => return Err(Close(close::NORMAL, "peer_error")),
            Message::Ephemeral { document_id, session_id, count, data, .. } => {
                // Passed on to the user's other connections on the document; the sender id is
                // the one this connection joined with, whatever the message says.
                let Ok(doc) = DocumentId::new(document_id) else { return Ok(()) };
                if session_id.len() > MAX_NAME_BYTES {
                    return Ok(());
                }
                if let Some(peer) = self.docs.get(&doc) {
                    let message = Ephemeral {
                        document: doc,
                        sender_id: self.client_peer.clone(),
                        session_id,
                        count,
                        data: data.into(),
                    };
                    self.hub.relay(&peer.entry, self.id, message).await;
                }
                return Ok(());
            }
            // The rest needs no answer from a server.
            _ => return Ok(()),
        };
        let Ok(doc) = DocumentId::new(document_id.clone()) else {
            return self.send(socket, self.unavailable(document_id)).await;
        };
        if !self.docs.contains_key(&doc) {
            if self.docs.len() >= self.limits.max_documents {
                let _ = self.send(socket, self.error("too_many_documents")).await;
                return Err(Close(close::POLICY, "too_many_documents"));
            }
            let entry = self.hub.entry(&doc);
            self.docs.insert(doc.clone(), PeerDoc { entry, state: sync::State::new() });
        }
        let Some(peer) = self.docs.get_mut(&doc) else { return Ok(()) };
        tracing::trace!(conn = self.id, doc = %doc, message = %wire::describe_sync(&data), "sync: received");
        let result = self.hub.receive(&peer.entry, self.id, &self.signal, &mut peer.state, &data, request).await;
        match result {
            Ok(applied) => match applied.reply {
                Some(data) => {
                    tracing::trace!(conn = self.id, doc = %doc, message = %wire::describe_sync(&data), "sync: replying");
                    self.send(socket, self.sync(&doc, data)).await
                }
                None => {
                    tracing::trace!(conn = self.id, doc = %doc, "sync: no reply due");
                    Ok(())
                }
            },
            Err(DocError::Unavailable) => {
                self.forget(&doc).await;
                self.send(socket, self.unavailable(document_id)).await
            }
            // Kept: the hub wakes this connection when the document is first stored.
            Err(DocError::NotYetStored) => self.send(socket, self.unavailable(document_id)).await,
            Err(DocError::InvalidMessage(e)) => {
                tracing::debug!(conn = self.id, doc = %doc, error = %e, "invalid sync message");
                self.forget(&doc).await;
                let _ = self.send(socket, self.error("invalid_sync_message")).await;
                Err(Close(close::PROTOCOL, "invalid_sync_message"))
            }
            Err(DocError::Storage(e)) => {
                tracing::error!(conn = self.id, doc = %doc, error = %e, "storing a document failed");
                self.forget(&doc).await;
                let _ = self.send(socket, self.error("storage_failed")).await;
                Err(Close(close::INTERNAL, "storage_failed"))
            }
        }
    }

    /// Sends what another connection's change means for this peer.
    async fn push(&mut self, socket: &mut WebSocket, doc: &DocumentId) -> Result<(), Close> {
        let Some(peer) = self.docs.get_mut(doc) else { return Ok(()) };
        match self.hub.generate(&peer.entry, self.signal.user, &mut peer.state).await {
            Ok(Some(data)) => {
                tracing::trace!(conn = self.id, doc = %doc, message = %wire::describe_sync(&data), "sync: pushing");
                self.send(socket, self.sync(doc, data)).await
            }
            Ok(None) => {
                tracing::trace!(conn = self.id, doc = %doc, "sync: nothing to push");
                Ok(())
            }
            Err(DocError::Storage(e)) => {
                tracing::error!(conn = self.id, doc = %doc, error = %e, "loading a document failed");
                let _ = self.send(socket, self.error("storage_failed")).await;
                Err(Close(close::INTERNAL, "storage_failed"))
            }
            Err(_) => {
                self.forget(doc).await;
                self.send(socket, self.unavailable(doc.as_str().to_owned())).await
            }
        }
    }

    async fn forget(&mut self, doc: &DocumentId) {
        if let Some(peer) = self.docs.remove(doc) {
            self.hub.unsubscribe(&peer.entry, self.id).await;
            drop(peer);
            self.hub.release(doc);
        }
    }

    async fn release(&mut self) {
        let docs: Vec<DocumentId> = self.docs.keys().cloned().collect();
        for doc in docs {
            self.forget(&doc).await;
        }
    }

    fn sync(&self, doc: &DocumentId, data: Vec<u8>) -> Message {
        Message::Sync {
            sender_id: self.server_peer.clone(),
            target_id: self.client_peer.clone(),
            document_id: doc.as_str().to_owned(),
            data,
        }
    }

    fn unavailable(&self, document_id: String) -> Message {
        Message::DocUnavailable {
            sender_id: self.server_peer.clone(),
            target_id: self.client_peer.clone(),
            document_id,
        }
    }

    fn error(&self, code: &str) -> Message {
        Message::Error {
            sender_id: Some(self.server_peer.clone()),
            target_id: Some(self.client_peer.clone()),
            message: code.to_owned(),
        }
    }

    async fn send(&self, socket: &mut WebSocket, message: Message) -> Result<(), Close> {
        self.write(socket, Frame::Binary(message.encode().into())).await
    }

    /// Sends `frame` unless the client leaves it waiting longer than its write timeout.
    async fn write(&self, socket: &mut WebSocket, frame: Frame) -> Result<(), Close> {
        let bytes = match &frame {
            Frame::Binary(bytes) => bytes.len(),
            _ => 0,
        };
        let limit = self.limits.write_timeout + Duration::from_secs_f64(bytes as f64 / self.limits.min_read_rate);
        match tokio::time::timeout(limit, socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Close(close::NORMAL, "closed")),
            Err(_) => Err(Close(close::TRY_AGAIN, "too_slow")),
        }
    }
}
