//! A TCP proxy between a device and the server that can take the network away or swallow replies.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A TCP proxy in front of the server: `offline` refuses connections and ends live ones; `deaf`
/// passes requests on but drops every reply but a WebSocket's upgrade (the server acts, the device
/// never hears).
pub struct Proxy {
    address: std::net::SocketAddr,
    offline: Arc<AtomicBool>,
    deaf: Arc<AtomicBool>,
    /// Milliseconds every reply waits before it is passed on.
    delay_ms: Arc<AtomicU64>,
    cut: Arc<Notify>,
}

impl Proxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            address: listener.local_addr().unwrap(),
            offline: Arc::new(AtomicBool::new(false)),
            deaf: Arc::new(AtomicBool::new(false)),
            delay_ms: Arc::new(AtomicU64::new(0)),
            cut: Arc::new(Notify::new()),
        };
        let (offline, deaf, cut) = (proxy.offline.clone(), proxy.deaf.clone(), proxy.cut.clone());
        let delay_ms = proxy.delay_ms.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if offline.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let (deaf, cut, delay_ms) = (deaf.clone(), cut.clone(), delay_ms.clone());
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let up = async {
                        let mut buffer = vec![0u8; 16 * 1024];
                        while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
                            if server_write.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let down = async {
                        let mut buffer = vec![0u8; 16 * 1024];
                        // A WebSocket's upgrade always passes: it is the frames after it that get lost.
                        let mut first = true;
                        while let Ok(n @ 1..) = server_read.read(&mut buffer).await {
                            let upgrade = first && buffer[..n].starts_with(b"HTTP/1.1 101");
                            let pass = upgrade || !deaf.load(Ordering::SeqCst);
                            first = false;
                            let delay = delay_ms.load(Ordering::SeqCst);
                            if delay > 0 {
                                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                            }
                            if pass && client_write.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    tokio::select! {
                        () = up => {}
                        () = down => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Ends every live connection (the next ones are refused while offline).
    pub fn cut_all(&self) {
        self.cut.notify_waiters();
    }

    pub fn go_offline(&self) {
        self.offline.store(true, Ordering::SeqCst);
        self.cut_all();
    }

    /// Connects again, but from now on every reply is lost (requests still reach the server).
    pub fn go_deaf(&self) {
        self.deaf.store(true, Ordering::SeqCst);
        self.offline.store(false, Ordering::SeqCst);
    }

    /// Every reply from now on comes `delay` late.
    pub fn go_slow(&self, delay: std::time::Duration) {
        self.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    pub fn go_online(&self) {
        self.delay_ms.store(0, Ordering::SeqCst);
        self.deaf.store(false, Ordering::SeqCst);
        self.offline.store(false, Ordering::SeqCst);
    }
}
