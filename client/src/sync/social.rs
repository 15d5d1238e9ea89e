//! The desktop half of social sign-in (RFC 8252): the app opens the system browser at the
//! server's start URL with its own PKCE challenge and a loopback redirect; the provider and the
//! server do their exchange; the browser comes back to `http://127.0.0.1:<port>/callback` with a
//! one-time code, which the app trades, with its verifier, for a session.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::error::{ClientError, Result};

/// The providers the server knows.
pub const PROVIDERS: [&str; 3] = ["google", "kakao", "naver"];
/// The longest request head the loopback listener reads.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// A social sign-in waiting for the browser to come back.
pub struct SocialSignIn {
    /// Open this in the system browser.
    pub browser_url: String,
    pub(crate) verifier: String,
    listener: TcpListener,
}

impl std::fmt::Debug for SocialSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialSignIn").field("browser_url", &self.browser_url).finish_non_exhaustive()
    }
}

impl SocialSignIn {
    pub(crate) async fn begin(server: &str, provider: &str) -> Result<Self> {
        if !PROVIDERS.contains(&provider) {
            return Err(ClientError::Invalid(format!("unknown provider {provider:?}")));
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ClientError::Network(format!("cannot listen on loopback: {e}")))?;
        let port = listener.local_addr().map_err(|e| ClientError::Network(e.to_string()))?.port();
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let browser_url = reqwest::Url::parse_with_params(
            &format!("{server}/v1/auth/{provider}/start"),
            [("redirect_uri", redirect.as_str()), ("code_challenge", &challenge), ("code_challenge_method", "S256")],
        )
        .map_err(|e| ClientError::Invalid(e.to_string()))?
        .to_string();
        Ok(Self { browser_url, verifier, listener })
    }

    /// Waits for the browser's visit to the loopback address and returns the one-time code, or
    /// the server's error code (`provider_denied`, `invalid_id_token`, …); `sign_in_timed_out`
    /// once `timeout` passed without it (not a network failure: the user did not finish in the
    /// browser). Other paths (a browser asking for a favicon) are answered 404 and waited past.
    pub(crate) async fn code(&self, timeout: Duration) -> Result<String> {
        tokio::time::timeout(timeout, self.accept_callback()).await.map_err(|_| ClientError::SignInTimedOut)?
    }

    async fn accept_callback(&self) -> Result<String> {
        loop {
            let (mut stream, _) =
                self.listener.accept().await.map_err(|e| ClientError::Network(format!("loopback accept: {e}")))?;
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let text = String::from_utf8_lossy(&head);
            let target = text.lines().next().and_then(|line| line.split(' ').nth(1)).unwrap_or("/");
            let url = reqwest::Url::parse(&format!("http://127.0.0.1{target}"))
                .map_err(|e| ClientError::Network(format!("the browser sent a bad request: {e}")))?;
            if url.path() != "/callback" {
                let _ =
                    stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                continue;
            }
            let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let (page, outcome) = match (param("code"), param("error")) {
                (Some(code), _) => ("Signed in to Mingizuk. You can close this window.", Ok(code)),
                (None, error) => {
                    let code = error.unwrap_or_else(|| "invalid_callback".into());
                    let message = format!("the sign-in did not finish: {code}");
                    ("The sign-in did not finish. Go back to Mingizuk and try again.", Err((code, message)))
                }
            };
            let body = format!("<!doctype html><meta charset=utf-8><title>Mingizuk</title><p>{page}</p>");
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            return outcome.map_err(|(code, message)| ClientError::Server { status: 401, code, message });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_browser_that_never_comes_back_times_the_sign_in_out_with_its_own_code() {
        // Nothing listens on port 9: the server is never asked before the browser comes back.
        let pending = SocialSignIn::begin("http://127.0.0.1:9", "kakao").await.expect("listening on loopback");
        let Err(e) = pending.code(Duration::from_millis(50)).await else { panic!("no browser came back") };
        assert_eq!(e.code(), "sign_in_timed_out", "{e}");
    }
}
