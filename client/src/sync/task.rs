//! The background sync task: connects to the server's `/v1/sync` with the session's access token,
//! speaks the automerge-repo protocol for every document of the account on that one connection,
//! and reconnects with backoff when the network or the server goes away. Its status says whether
//! the server is known to hold everything this device has ("up to date" is only reported after
//! the server answered with heads covering ours, and the server answers only after storing). A
//! connection that hears not a byte for `Liveness::silent_for` is taken for lost and made again, so
//! the status never says "up to date" over a connection that died quietly (a large message
//! arriving slowly keeps it alive).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mingizuk_core::automerge::sync;
use mingizuk_core::schema::DocKind;
use mingizuk_core::wire::{self, Message};
use tokio::sync::{Notify, watch};
use tokio_tungstenite::tungstenite::{self, Message as Frame};

use super::session::Credentials;
use crate::engine::Engine;
use crate::error::{ClientError, Result};
use crate::social::socket::{self, Heartbeat, Liveness, Socket};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long the server may take to answer `join`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message accepted from the server (a fresh device pulls whole months at once).
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

mod doc;
mod status;

use doc::DocSync;
use status::gone_offline;
pub use status::{SyncPhase, SyncStatus};

/// A running sync task; dropping the handle does not stop it, [`SyncHandle::stop`] does.
pub struct SyncHandle {
    status: watch::Receiver<SyncStatus>,
    stop: Arc<Notify>,
    join: tokio::task::JoinHandle<()>,
}

impl SyncHandle {
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Stops the task and waits for it to end.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.join.await;
    }
}

/// Starts syncing `engine`'s documents with the server `credentials` speak to.
pub fn start(engine: Arc<Engine>, credentials: Arc<Credentials>) -> SyncHandle {
    start_with(engine, credentials, Liveness::default())
}

/// Like [`start`], with connections given up after `liveness`.
pub(crate) fn start_with(engine: Arc<Engine>, credentials: Arc<Credentials>, liveness: Liveness) -> SyncHandle {
    let (status_tx, status) = watch::channel(engine.offline_status());
    let stop = Arc::new(Notify::new());
    let stopping = stop.clone();
    let join = tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let run = Session::run(&engine, &credentials, &liveness, &status_tx);
            let ended = tokio::select! {
                ended = run => ended,
                () = stopping.notified() => break,
            };
            let error = match ended {
                Ok(()) => None,
                Err(ClientError::SignedOut) => {
                    gone_offline(&status_tx, Some("signed_out".into()));
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the sync connection ended");
                    Some(e.code().to_owned())
                }
            };
            if status_tx.borrow().phase == SyncPhase::UpToDate {
                backoff = FIRST_BACKOFF;
            }
            gone_offline(&status_tx, error);
            // Jitter so that many devices do not come back in step after a server restart.
            let jitter = backoff.mul_f64(rand::random::<f64>() * 0.5);
            tokio::select! {
                () = tokio::time::sleep(backoff + jitter) => {}
                () = stopping.notified() => break,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        gone_offline(&status_tx, None);
    });
    SyncHandle { status, stop, join }
}

/// A healthy exchange converges in a few round trips; this many fruitless messages in a row means
/// the two sync states disagree for good (say, a change the server counts as sent was lost
/// here), and only a new connection, with fresh states on both sides, gets them moving again.
const STALLED_AFTER: u32 = 64;

/// One connection's worth of syncing.
struct Session<'a> {
    engine: &'a Engine,
    socket: Socket,
    /// When the server was last heard from.
    heartbeat: Heartbeat,
    peer_id: String,
    server_peer: String,
    docs: HashMap<String, DocSync>,
}

impl<'a> Session<'a> {
    async fn run(
        engine: &'a Engine,
        credentials: &Credentials,
        liveness: &Liveness,
        status: &watch::Sender<SyncStatus>,
    ) -> Result<()> {
        // A refused access token (expired, or signed with a key the server no longer has) is
        // refreshed once; a refused refresh signs the device out.
        let mut socket = match connect(credentials, liveness, false).await {
            Err(ClientError::Server { status: 401, code, .. })
                if code == "token_expired" || code == "invalid_token" =>
            {
                connect(credentials, liveness, true).await?
            }
            other => other?,
        };
        let peer_id = format!("mingizuk-{}", engine.device_id().simple());
        let (server_peer, socket) = {
            let join = Message::Join {
                sender_id: peer_id.clone(),
                supported_protocol_versions: vec![wire::PROTOCOL_VERSION.to_owned()],
                peer_metadata: None,
            };
            socket.send(Frame::Binary(join.encode().into())).await.map_err(network)?;
            let server_peer = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
                while let Some(frame) = socket.next().await {
                    if let Frame::Binary(bytes) = frame.map_err(network)? {
                        return match Message::decode(&bytes) {
                            Ok(Message::Peer { sender_id, .. }) => Ok(sender_id),
                            Ok(Message::Error { message, .. }) => Err(ClientError::Network(message)),
                            _ => Err(ClientError::Network("the server did not answer join".into())),
                        };
                    }
                }
                Err(ClientError::Network("the server closed the connection".into()))
            })
            .await
            .map_err(|_| ClientError::Network("the server did not answer join in time".into()))??;
            (server_peer, socket)
        };
        let heartbeat = Heartbeat::start(liveness, socket.heard());
        let mut session = Session { engine, socket, heartbeat, peer_id, server_peer, docs: HashMap::new() };
        session.serve(status).await
    }

    async fn serve(&mut self, status: &watch::Sender<SyncStatus>) -> Result<()> {
        let mut local = self.engine.local_writes();
        // The writes the documents being synced are known to include: read before each look for
        // new documents, so that a write that made a document this connection does not sync yet
        // is never counted as confirmed (it is counted after the next `add_targets`).
        let mut latest = *local.borrow_and_update();
        let mut confirmed = status.borrow().confirmed_writes;
        status.send_modify(|s| {
            s.phase = SyncPhase::Syncing;
            s.changes_waiting = true;
            s.last_error = None;
        });
        self.add_targets().await?;
        loop {
            self.report(status, &mut confirmed, latest).await?;
            tokio::select! {
                frame = self.heartbeat.next(&mut self.socket) => {
                    let Some(frame) = frame? else { return Err(ClientError::Network("the server closed the connection".into())) };
                    match frame.map_err(network)? {
                        Frame::Binary(bytes) => self.handle(&bytes).await?,
                        Frame::Close(close) => {
                            let reason = close.map(|c| c.reason.to_string()).unwrap_or_default();
                            return Err(ClientError::Network(format!("the server closed the connection: {reason}")));
                        }
                        _ => {}
                    }
                }
                changed = local.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    status.send_modify(|s| { s.phase = SyncPhase::Syncing; s.changes_waiting = true; });
                    latest = *local.borrow_and_update();
                    self.add_targets().await?;
                    let ids: Vec<String> = self.docs.keys().cloned().collect();
                    for id in ids {
                        self.send_next(&id).await?;
                    }
                }
            }
        }
    }

    /// Starts syncing documents of the account not synced on this connection yet.
    async fn add_targets(&mut self) -> Result<()> {
        for (kind, id) in self.engine.sync_targets().await? {
            let id = wire::document_id(id);
            if self.docs.contains_key(&id) {
                continue;
            }
            let doc = DocSync::new(kind);
            self.docs.insert(id.clone(), doc);
            self.send_next(&id).await?;
        }
        Ok(())
    }

    async fn send_next(&mut self, id: &str) -> Result<()> {
        let Some(doc) = self.docs.get_mut(id).filter(|d| d.set_aside.is_none()) else { return Ok(()) };
        if doc.unavailable {
            if !self.engine.holds(doc.kind).await {
                return Ok(());
            }
            // The server had none of it when asked, and this device has written to it since:
            // send it whole, as a document of ours, from a fresh start.
            doc.unavailable = false;
            doc.state = sync::State::new();
        }
        let (kind, generated) = (doc.kind, self.engine.generate_sync(doc.kind, &mut doc.state).await);
        let Some(data) = self.usable(id, generated)?.flatten() else {
            tracing::trace!(peer = %self.peer_id, doc = id, "sync: nothing to send");
            return Ok(());
        };
        tracing::trace!(peer = %self.peer_id, doc = id, message = %wire::describe_sync(&data), "sync: sending");
        let (sender_id, target_id, document_id) = (self.peer_id.clone(), self.server_peer.clone(), id.to_owned());
        let message = if self.engine.holds(kind).await {
            Message::Sync { sender_id, target_id, document_id, data }
        } else {
            if let Some(doc) = self.docs.get_mut(id) {
                doc.asked = true;
            }
            Message::Request { sender_id, target_id, document_id, data }
        };
        self.socket.send(Frame::Binary(message.encode().into())).await.map_err(network)
    }

    async fn handle(&mut self, bytes: &[u8]) -> Result<()> {
        let message = Message::decode(bytes).map_err(|e| ClientError::Network(format!("bad message: {e}")))?;
        match message {
            Message::Sync { document_id, data, .. } => {
                let Some(doc) = self.docs.get_mut(&document_id).filter(|d| d.set_aside.is_none()) else {
                    return Ok(());
                };
                doc.unavailable = false;
                doc.asked = false;
                let kind = doc.kind;
                let received = self.engine.receive_sync(kind, &mut doc.state, &data).await;
                let Some(changed) = self.usable(&document_id, received)? else { return Ok(()) };
                tracing::trace!(peer = %self.peer_id, doc = document_id, message = %wire::describe_sync(&data), changed, "sync: received");
                let Some(doc) = self.docs.get(&document_id) else { return Ok(()) };
                let in_sync = self.engine.in_sync(kind, &doc.state).await;
                let in_sync = changed || self.usable(&document_id, in_sync)?.unwrap_or(false);
                let Some(doc) = self.docs.get_mut(&document_id).filter(|d| d.set_aside.is_none()) else {
                    return Ok(());
                };
                if in_sync {
                    doc.fruitless = 0;
                } else {
                    doc.fruitless += 1;
                    if doc.fruitless >= STALLED_AFTER {
                        return Err(ClientError::Network(format!("sync of document {document_id} stalled")));
                    }
                }
                self.send_next(&document_id).await?;
                if changed && kind == DocKind::Account {
                    self.add_targets().await?;
                }
                Ok(())
            }
            Message::DocUnavailable { document_id, .. } => {
                if let Some(doc) = self.docs.get_mut(&document_id) {
                    if std::mem::take(&mut doc.asked) {
                        // The answer to this device's request: the server has none of it yet. If
                        // this device has written to it since, it is sent now.
                        doc.unavailable = true;
                        return self.send_next(&document_id).await;
                    }
                    if self.engine.holds(doc.kind).await {
                        // Ours, yet refused: another account holds a document with this id.
                        return Err(ClientError::Server {
                            status: 403,
                            code: "document_unavailable".into(),
                            message: format!("the server refused document {document_id}"),
                        });
                    }
                    doc.unavailable = true;
                }
                Ok(())
            }
            Message::Error { message, .. } => Err(ClientError::Network(format!("the server gave up: {message}"))),
            _ => Ok(()),
        }
    }

    /// `result` of working on document `id`, or `None` if it showed that the document cannot be
    /// used here: then it is set aside for the rest of this connection. Other errors end it.
    fn usable<T>(&mut self, id: &str, result: Result<T>) -> Result<Option<T>> {
        match result {
            Err(e @ ClientError::Corrupt { .. }) => {
                tracing::warn!(doc = id, error = %e, "sync: a document cannot be used here; the others go on");
                if let Some(doc) = self.docs.get_mut(id) {
                    doc.set_aside = Some(e.code().to_owned());
                }
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Recomputes the status: up to date when the server's last heads cover every document's.
    async fn report(&mut self, status: &watch::Sender<SyncStatus>, confirmed: &mut u64, latest: u64) -> Result<()> {
        let set_aside = self.docs.values().find_map(|d| d.set_aside.clone());
        let mut all = set_aside.is_none();
        let ids: Vec<String> = if all { self.docs.keys().cloned().collect() } else { Vec::new() };
        for id in ids {
            let Some(doc) = self.docs.get(&id) else { continue };
            // A document the server has none of is in sync only while this device has none either
            // (a write to it is sent by `send_next`, which clears the mark).
            if doc.unavailable && !self.engine.holds(doc.kind).await {
                continue;
            }
            let in_sync = self.engine.in_sync(doc.kind, &doc.state).await;
            if self.usable(&id, in_sync)? != Some(true) {
                all = false;
                break;
            }
        }
        if all && *confirmed < latest {
            // Stored, so that a restart still knows it; if it cannot be (disk full), a restart
            // only counts those writes as waiting again, which is safe.
            if let Err(e) = self.engine.confirm_writes(latest).await {
                tracing::warn!(error = %e, "could not store how many writes the server holds");
            }
            *confirmed = latest;
        }
        let next = SyncStatus {
            phase: if all { SyncPhase::UpToDate } else { SyncPhase::Syncing },
            changes_waiting: *confirmed < latest || !all,
            last_error: set_aside,
            confirmed_writes: *confirmed,
            writes_waiting: latest.saturating_sub(*confirmed),
        };
        status.send_if_modified(|s| {
            let modified = *s != next;
            *s = next.clone();
            modified
        });
        Ok(())
    }
}

async fn connect(credentials: &Credentials, liveness: &Liveness, force_refresh: bool) -> Result<Socket> {
    let token = credentials.access_token(force_refresh).await?;
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    socket::open(&credentials.api.sync_url(), &token, Some(config), liveness).await
}

fn network(e: impl std::fmt::Display) -> ClientError {
    ClientError::Network(e.to_string())
}

#[cfg(test)]
mod tests;
