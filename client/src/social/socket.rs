//! A WebSocket to the server that must show signs of life, shared by the live chat connection and
//! the document sync task: it opens within a time limit (TCP, TLS and the upgrade together), and a
//! connection that hears nothing at all — not even the server's ping — for a while is taken for
//! lost (after a laptop's suspend or a network change a socket can look open forever), so the
//! caller ends it and connects again through its backoff. Every byte counts as a sign of life, not
//! only a whole frame: one large message on a slow link (a fresh device's first sync) can take
//! longer than the limit to arrive, and no ping gets past it meanwhile. It knows nothing of what
//! the frames say.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Sink, Stream, StreamExt};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::UrlError;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message as Frame, protocol::WebSocketConfig};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::{ClientError, Result};

/// How often the server pings every WebSocket (its `ping_interval`, for chat and for sync).
pub const SERVER_PING_INTERVAL: Duration = mingizuk_core::limits::WEBSOCKET_PING_INTERVAL;

/// How long a connection to the server may take to open, and may stay silent, before it is taken
/// for lost and made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Opening: the TCP connection, TLS and the WebSocket upgrade together.
    pub connect_within: Duration,
    /// Not a byte heard for this long, pings included, and the connection is lost. The server
    /// pings every [`SERVER_PING_INTERVAL`], so two pings may go astray before a working
    /// connection is given up; a large message arriving slowly keeps it alive byte by byte.
    pub silent_for: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Self { connect_within: Duration::from_secs(15), silent_for: SERVER_PING_INTERVAL.mul_f64(2.5) }
    }
}

/// When the last byte came in on one connection, part of a frame or not: stamped by the
/// connection's reader, read by its [`Heartbeat`].
#[derive(Debug, Clone)]
pub(crate) struct BytesHeard {
    origin: Instant,
    /// Nanoseconds from `origin` to the last byte heard.
    since_origin: Arc<AtomicU64>,
}

impl BytesHeard {
    /// A clock that last heard something now.
    pub(crate) fn new() -> Self {
        Self { origin: Instant::now(), since_origin: Arc::new(AtomicU64::new(0)) }
    }

    /// Notes that bytes came in now.
    pub(crate) fn stamp(&self) {
        let nanos = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.since_origin.fetch_max(nanos, Ordering::Relaxed);
    }

    pub(crate) fn last(&self) -> Instant {
        self.origin + Duration::from_nanos(self.since_origin.load(Ordering::Relaxed))
    }
}

/// The connection's byte stream (TCP, below TLS) with every read that brings bytes stamped.
struct Stamped<S> {
    inner: S,
    heard: BytesHeard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Stamped<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.heard.stamp();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stamped<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The WebSocket over the stamped TCP stream, TLS between them for a `wss` URL.
type Frames = WebSocketStream<MaybeTlsStream<Stamped<TcpStream>>>;

/// An open WebSocket to the server: its frames both ways, and when its last byte came in.
pub(crate) struct Socket {
    frames: Frames,
    heard: BytesHeard,
}

impl Socket {
    /// The connection's byte clock, for its [`Heartbeat`].
    pub(crate) fn heard(&self) -> BytesHeard {
        self.heard.clone()
    }
}

impl Stream for Socket {
    type Item = std::result::Result<Frame, tungstenite::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().frames).poll_next(cx)
    }
}

impl Sink<Frame> for Socket {
    type Error = tungstenite::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().frames).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, frame: Frame) -> std::result::Result<(), Self::Error> {
        Pin::new(&mut self.get_mut().frames).start_send(frame)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().frames).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().frames).poll_close(cx)
    }
}

/// Opens the WebSocket at `url` with the bearer `token`, within `liveness.connect_within`. A
/// refusal is `ClientError::Server` with the code of the server's error body
/// (`unexpected_response` when it has none).
pub(crate) async fn open(
    url: &str,
    token: &str,
    config: Option<WebSocketConfig>,
    liveness: &Liveness,
) -> Result<Socket> {
    let mut request = url.into_client_request().map_err(|e| ClientError::Invalid(e.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| ClientError::Invalid(e.to_string()))?;
    request.headers_mut().insert("authorization", bearer);
    let heard = BytesHeard::new();
    let tls = web_tls().map_err(|e| ClientError::Network(e.to_string()))?;
    let connecting = connect(request, config, &heard, tls);
    let Ok(connected) = tokio::time::timeout(liveness.connect_within, connecting).await else {
        return Err(ClientError::Network("the server did not open the connection in time".into()));
    };
    match connected {
        Ok(frames) => Ok(Socket { frames, heard }),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            let code = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "unexpected_response".into());
            Err(ClientError::Server { status, code, message: format!("the server refused the connection ({status})") })
        }
        Err(e) => Err(ClientError::Network(e.to_string())),
    }
}

/// What `tokio_tungstenite::connect_async_tls_with_config` does, with the TCP stream stamped by
/// `heard` below TLS (a `wss` URL), so that every byte counts whether or not it makes a frame.
async fn connect(
    request: Request,
    config: Option<WebSocketConfig>,
    heard: &BytesHeard,
    tls: Connector,
) -> std::result::Result<Frames, tungstenite::Error> {
    let uri = request.uri();
    let host = uri.host().ok_or(tungstenite::Error::Url(UrlError::NoHostName))?;
    let port = uri
        .port_u16()
        .or_else(|| match uri.scheme_str() {
            Some("wss") => Some(443),
            Some("ws") => Some(80),
            _ => None,
        })
        .ok_or(tungstenite::Error::Url(UrlError::UnsupportedUrlScheme))?;
    let tcp = TcpStream::connect(format!("{host}:{port}")).await?;
    // No Nagle: a chat line or a sync reply is one small frame and goes out at once.
    tcp.set_nodelay(true)?;
    let stamped = Stamped { inner: tcp, heard: heard.clone() };
    let (frames, _response) =
        tokio_tungstenite::client_async_tls_with_config(request, stamped, config, Some(tls)).await?;
    Ok(frames)
}

/// The TLS of `wss` connections: rustls trusting the web's root certificates, as the HTTP
/// client does (reqwest's `rustls-tls`), with the ring provider. Built once.
fn web_tls() -> std::result::Result<Connector, tungstenite::Error> {
    static CONFIG: OnceLock<std::result::Result<Arc<ClientConfig>, rustls::Error>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    });
    match config {
        Ok(config) => Ok(Connector::Rustls(config.clone())),
        Err(e) => Err(tungstenite::Error::Tls(e.clone().into())),
    }
}

/// When the server was last heard from on one connection.
pub(crate) struct Heartbeat {
    silent_for: Duration,
    /// When the last whole frame came.
    last: Instant,
    /// When the last byte came, part of a frame or not.
    bytes: BytesHeard,
}

impl Heartbeat {
    /// Starts counting now (the connection just opened); `bytes` is the connection's byte clock.
    pub(crate) fn start(liveness: &Liveness, bytes: BytesHeard) -> Self {
        Self { silent_for: liveness.silent_for, last: Instant::now(), bytes }
    }

    /// The next frame of `socket` (`None`: it ended), or a network error once not a byte came for
    /// the silence limit. A frame already waiting is taken even past the limit (the caller may
    /// have been busy). Cancel-safe, as `StreamExt::next` is.
    pub(crate) async fn next<S: Stream + Unpin>(&mut self, socket: &mut S) -> Result<Option<S::Item>> {
        loop {
            let heard = self.last.max(self.bytes.last());
            match tokio::time::timeout_at(heard + self.silent_for, socket.next()).await {
                Ok(frame) => {
                    self.last = Instant::now();
                    return Ok(frame);
                }
                // Part of a frame came meanwhile (a large message on a slow link): still alive.
                Err(_) if self.bytes.last() > heard => {}
                Err(_) => {
                    return Err(ClientError::Network(format!(
                        "nothing heard from the server for {} s: the connection is taken for lost",
                        self.silent_for.as_secs_f64()
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
