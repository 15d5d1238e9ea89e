#![allow(clippy::unwrap_used)]

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::*;

/// Writes one unmasked server frame with `opcode` (1 text, 2 binary) carrying `payload` to
/// `stream` in `pieces` pieces, one every `every`: a large message on a slow link. Whether
/// every piece was written.
pub(crate) async fn trickle_frame<W: AsyncWrite + Unpin>(
    stream: &mut W,
    opcode: u8,
    payload: &[u8],
    pieces: usize,
    every: Duration,
) -> bool {
    let mut bytes = vec![0x80 | opcode];
    match payload.len() {
        len @ 0..126 => bytes.push(len as u8),
        len @ 126..65_536 => {
            bytes.push(126);
            bytes.extend((len as u16).to_be_bytes());
        }
        len => {
            bytes.push(127);
            bytes.extend((len as u64).to_be_bytes());
        }
    }
    bytes.extend_from_slice(payload);
    for (n, piece) in bytes.chunks(bytes.len().div_ceil(pieces)).enumerate() {
        if n > 0 {
            tokio::time::sleep(every).await;
        }
        if stream.write_all(piece).await.is_err() || stream.flush().await.is_err() {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn a_silent_connection_is_lost_but_every_frame_heard_starts_the_count_again() {
    let silent_for = Duration::from_millis(300);
    let liveness = Liveness { connect_within: Duration::from_secs(1), silent_for };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let mut frames =
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|n| (n, rx)) }));
    let mut heartbeat = Heartbeat::start(&liveness, BytesHeard::new());
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx.send(n).unwrap();
        assert_eq!(heartbeat.next(&mut frames).await.unwrap(), Some(n), "heard within the limit");
    }
    let started = Instant::now();
    assert!(matches!(heartbeat.next(&mut frames).await, Err(ClientError::Network(_))));
    assert!(started.elapsed() >= silent_for, "lost only once silent for the whole limit");
}

#[tokio::test]
async fn bytes_of_a_frame_not_whole_yet_keep_the_connection_alive() {
    let silent_for = Duration::from_millis(300);
    let liveness = Liveness { connect_within: Duration::from_secs(1), silent_for };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let mut frames =
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|n| (n, rx)) }));
    let bytes = BytesHeard::new();
    let mut heartbeat = Heartbeat::start(&liveness, bytes.clone());
    let trickle = tokio::spawn(async move {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            bytes.stamp();
        }
        tx.send(1).unwrap();
        tx
    });
    assert_eq!(heartbeat.next(&mut frames).await.unwrap(), Some(1), "alive while bytes came");
    let _tx = trickle.await.unwrap();
    let started = Instant::now();
    assert!(matches!(heartbeat.next(&mut frames).await, Err(ClientError::Network(_))));
    assert!(started.elapsed() >= silent_for, "then lost once silent for the whole limit");
}

#[tokio::test]
async fn a_large_message_slower_than_the_silence_limit_arrives_whole_and_silence_still_counts() {
    let liveness = Liveness { connect_within: Duration::from_secs(5), silent_for: Duration::from_secs(1) };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/sync", listener.local_addr().unwrap());
    let payload: Vec<u8> = (0..256 * 1024).map(|n| (n % 251) as u8).collect();
    let sent = payload.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
        // 3 s for the whole message, three times the limit, never 1 s without a byte; then
        // silence, its side of the connection left open.
        trickle_frame(socket.get_mut(), 2, &sent, 30, Duration::from_millis(100)).await;
        std::future::pending::<()>().await;
    });
    let mut socket = open(&url, "token", None, &liveness).await.unwrap();
    let mut heartbeat = Heartbeat::start(&liveness, socket.heard());
    let started = Instant::now();
    let frame = heartbeat.next(&mut socket).await.expect("not taken for lost while it arrives").unwrap().unwrap();
    assert!(started.elapsed() > liveness.silent_for * 2, "it took longer than the limit");
    let Frame::Binary(received) = frame else { panic!("a binary frame") };
    assert!(received[..] == payload[..], "the message arrived whole");
    let silent = Instant::now();
    assert!(matches!(heartbeat.next(&mut socket).await, Err(ClientError::Network(_))), "silence is noticed");
    assert!(silent.elapsed() >= liveness.silent_for);
}

#[test]
fn the_silence_limit_outlasts_two_of_the_servers_pings() {
    assert!(Liveness::default().silent_for > SERVER_PING_INTERVAL * 2);
}

/// The ring provider, as the client's own TLS uses.
fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A `wss` server on 127.0.0.1 with a self-signed certificate for that address: on every
/// connection it sends `payload` in one binary frame, `pieces` TLS records 100 ms apart, then
/// goes silent with its side left open. Its URL and its certificate.
async fn tls_server(payload: Vec<u8>, pieces: usize) -> (String, CertificateDer<'static>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://{}/v1/sync", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, payload) = (acceptor.clone(), payload.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends here.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut socket) = tokio_tungstenite::accept_async(tls).await else { return };
                trickle_frame(socket.get_mut(), 2, &payload, pieces, Duration::from_millis(100)).await;
                std::future::pending::<()>().await;
            });
        }
    });
    (url, cert.der().clone())
}

#[tokio::test]
async fn a_wss_connection_carries_frames_over_tls_and_its_bytes_below_tls_count_as_signs_of_life() {
    let liveness = Liveness { connect_within: Duration::from_secs(5), silent_for: Duration::from_secs(1) };
    let payload: Vec<u8> = (0..256 * 1024).map(|n| (n % 241) as u8).collect();
    // 3 s for the whole message, three times the limit, never 1 s without a TLS record.
    let (url, certificate) = tls_server(payload.clone(), 30).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate).unwrap();
    let config = ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let heard = BytesHeard::new();
    let request = url.into_client_request().unwrap();
    let frames = connect(request, None, &heard, Connector::Rustls(Arc::new(config))).await.unwrap();
    let mut socket = Socket { frames, heard };
    let mut heartbeat = Heartbeat::start(&liveness, socket.heard());
    let started = Instant::now();
    let frame = heartbeat.next(&mut socket).await.expect("not taken for lost while it arrives").unwrap().unwrap();
    assert!(started.elapsed() > liveness.silent_for * 2, "it took longer than the limit");
    let Frame::Binary(received) = frame else { panic!("a binary frame") };
    assert!(received[..] == payload[..], "the message arrived whole, decrypted");
    assert!(matches!(heartbeat.next(&mut socket).await, Err(ClientError::Network(_))), "silence is noticed");
}

#[tokio::test]
async fn a_wss_server_whose_certificate_no_web_authority_vouches_for_is_refused() {
    let liveness = Liveness { connect_within: Duration::from_secs(5), silent_for: Duration::from_secs(1) };
    let (url, _) = tls_server(b"never read".to_vec(), 1).await;
    let Err(ClientError::Network(message)) = open(&url, "token", None, &liveness).await else {
        panic!("a self-signed certificate is not trusted")
    };
    assert!(message.to_lowercase().contains("certificate"), "the TLS handshake refused it: {message}");
}
