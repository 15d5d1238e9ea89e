//! The rows of social login as storage keeps them: a login started with a provider (`OAuthState`)
//! and the one-time code handed to the app afterwards (`AuthCode`). Both are single use; both are
//! found by the SHA-256 of the random text the client holds, never by the text itself.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{TokenHash, UserId};

/// A login started with a provider, kept until its callback arrives or it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// The SHA-256 of the `state` parameter sent to the provider.
    pub hash: TokenHash,
    /// The provider's name (`google`, `kakao`, `naver`); the callback must come from the same one.
    pub provider: String,
    /// The server's own PKCE verifier for the provider's token endpoint.
    pub pkce_verifier: String,
    /// The OpenID Connect nonce the id_token must carry.
    pub nonce: String,
    /// Where the app waits for its one-time code (already checked against the allow-list).
    pub app_redirect_uri: String,
    /// The app's S256 challenge, which the one-time code will be bound to.
    pub app_code_challenge: CodeChallenge,
    pub expires_at: DateTime<Utc>,
}

// Hand-written: the verifier and nonce are secrets of an ongoing login.
impl fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthState")
            .field("hash", &self.hash)
            .field("provider", &self.provider)
            .field("pkce_verifier", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("app_redirect_uri", &self.app_redirect_uri)
            .field("app_code_challenge", &self.app_code_challenge)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A one-time code the app trades, with the verifier of `code_challenge`, for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthCode {
    /// The SHA-256 of the code.
    pub hash: TokenHash,
    pub user_id: UserId,
    /// The app's S256 challenge: only the holder of its verifier may trade the code.
    pub code_challenge: CodeChallenge,
    pub expires_at: DateTime<Utc>,
}

/// An S256 PKCE challenge: 43 characters of unpadded base64url (RFC 7636 §4.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeChallenge([u8; CodeChallenge::LEN]);

impl CodeChallenge {
    pub const LEN: usize = 43;

    /// The challenge as the app sent it, if it has the shape of an S256 one.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes: [u8; Self::LEN] = text.as_bytes().try_into().ok()?;
        bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_').then_some(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever admitted by `parse`, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeChallenge({})", self.as_str())
    }
}
