//! A WebSocket to the server that must show signs of life, shared by the live chat connection and
//! the document sync task: it opens within a time limit (TCP, TLS and the upgrade together), and a
//! connection that hears nothing at all — not even the server's ping — for a while is taken for
//! lost (after a laptop's suspend or a network change a socket can look open forever), so the
//! caller ends it and connects again through its backoff. It knows nothing of what the frames say.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};

use crate::error::{ClientError, Result};

/// How often the server pings every WebSocket (its `ping_interval`, for chat and for sync).
pub const SERVER_PING_INTERVAL: Duration = mingizuk_core::limits::WEBSOCKET_PING_INTERVAL;

/// How long a connection to the server may take to open, and may stay silent, before it is taken
/// for lost and made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Opening: the TCP connection, TLS and the WebSocket upgrade together.
    pub connect_within: Duration,
    /// Nothing heard for this long, pings included, and the connection is lost. The server pings
    /// every [`SERVER_PING_INTERVAL`], so two pings may go astray before a working connection is
    /// given up.
    pub silent_for: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Self { connect_within: Duration::from_secs(15), silent_for: SERVER_PING_INTERVAL.mul_f64(2.5) }
    }
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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
    // `true`: no Nagle — a chat line or a sync reply is one small frame and goes out at once.
    let connecting = tokio_tungstenite::connect_async_with_config(request, config, true);
    let Ok(connected) = tokio::time::timeout(liveness.connect_within, connecting).await else {
        return Err(ClientError::Network("the server did not open the connection in time".into()));
    };
    match connected {
        Ok((socket, _response)) => Ok(socket),
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

/// When the server was last heard from on one connection.
pub(crate) struct Heartbeat {
    silent_for: Duration,
    last: Instant,
}

impl Heartbeat {
    /// Starts counting now (the connection just opened).
    pub(crate) fn start(liveness: &Liveness) -> Self {
        Self { silent_for: liveness.silent_for, last: Instant::now() }
    }

    /// The next frame of `socket` (`None`: it ended), or a network error once nothing at all came
    /// for the silence limit. A frame already waiting is taken even past the limit (the caller may
    /// have been busy). Cancel-safe, as `StreamExt::next` is.
    pub(crate) async fn next<S: Stream + Unpin>(&mut self, socket: &mut S) -> Result<Option<S::Item>> {
        match tokio::time::timeout_at(self.last + self.silent_for, socket.next()).await {
            Ok(frame) => {
                self.last = Instant::now();
                Ok(frame)
            }
            Err(_) => Err(ClientError::Network(format!(
                "nothing heard from the server for {} s: the connection is taken for lost",
                self.silent_for.as_secs_f64()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_silent_connection_is_lost_but_every_frame_heard_starts_the_count_again() {
        let silent_for = Duration::from_millis(300);
        let liveness = Liveness { connect_within: Duration::from_secs(1), silent_for };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let mut frames =
            Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|n| (n, rx)) }));
        let mut heartbeat = Heartbeat::start(&liveness);
        for n in 0..3 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            tx.send(n).unwrap();
            assert_eq!(heartbeat.next(&mut frames).await.unwrap(), Some(n), "heard within the limit");
        }
        let started = Instant::now();
        assert!(matches!(heartbeat.next(&mut frames).await, Err(ClientError::Network(_))));
        assert!(started.elapsed() >= silent_for, "lost only once silent for the whole limit");
    }

    #[test]
    fn the_silence_limit_outlasts_two_of_the_servers_pings() {
        assert!(Liveness::default().silent_for > SERVER_PING_INTERVAL * 2);
    }
}
