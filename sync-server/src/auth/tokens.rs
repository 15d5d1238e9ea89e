//! The tokens this server issues. Access tokens are HS256 JWTs valid for an hour, checked against an
//! algorithm allow-list (HS256 only, so `alg=none` and key-confusion tricks are refused) and their
//! `iss`, `aud`, `exp` and `typ`. Refresh tokens are 32 random bytes (base64url), valid 14 days,
//! kept by storage only as a SHA-256; rotation and families live in storage and `accounts`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;
use crate::storage::{TokenHash, UserId};

/// How long an access token is good for (PRODUCT.md §2: one hour).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// How long a refresh token is good for (PRODUCT.md §2: 14 days).
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(14);
/// The `iss` of every access token.
pub const ISSUER: &str = "mingizuk-server";
/// The `aud` of every access token: this server's API.
pub const AUDIENCE: &str = "mingizuk-api";
/// The `typ` claim of an access token; any other value is refused where an access token is due.
pub const ACCESS_TYPE: &str = "access";
/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECONDS: u64 = 5;
/// Random bytes in a refresh token.
const REFRESH_TOKEN_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    pub typ: String,
}

/// The key pair for signing and checking access tokens, from one shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKeys([redacted])")
    }
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    /// A fresh random key, for a server started without `jwt_secret`: its tokens die with it.
    pub fn ephemeral() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::from_secret(&secret)
    }

    /// A signed access token for `user`, issued at `now`, and its lifetime in seconds.
    pub fn issue_access(&self, user: UserId, now: DateTime<Utc>) -> Result<(String, i64), AuthError> {
        let claims = AccessClaims {
            sub: user.to_string(),
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_LIFETIME).timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Signing(e.to_string()))?;
        Ok((token, ACCESS_TOKEN_LIFETIME.num_seconds()))
    }

    /// The user an access token speaks for, if it is one of ours, unexpired and of type access.
    pub fn verify_access(&self, token: &str) -> Result<UserId, AuthError> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                    _ => AuthError::InvalidToken,
                }
            })?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(AuthError::InvalidToken);
        }
        Uuid::parse_str(&data.claims.sub).map(UserId).map_err(|_| AuthError::InvalidToken)
    }
}

/// A new refresh token: the text handed to the client and the hash storage keeps.
pub fn new_refresh_token() -> (String, TokenHash) {
    let bytes: [u8; REFRESH_TOKEN_BYTES] = rand::random();
    let text = URL_SAFE_NO_PAD.encode(bytes);
    let hash = TokenHash::of(text.as_bytes());
    (text, hash)
}

/// The hash under which a presented refresh token would be stored.
pub fn refresh_token_hash(text: &str) -> TokenHash {
    TokenHash::of(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_token_names_its_user_and_a_refresh_token_is_not_one() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let user = UserId::random();
        let (token, lifetime) = keys.issue_access(user, Utc::now()).expect("issue");
        assert_eq!(lifetime, 3600);
        assert_eq!(keys.verify_access(&token).expect("verify"), user);
        let (refresh, hash) = new_refresh_token();
        assert_eq!(refresh.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(refresh_token_hash(&refresh), hash);
        assert!(matches!(keys.verify_access(&refresh), Err(AuthError::InvalidToken)));
        let other = TokenKeys::from_secret(b"another secret, another server..");
        assert!(matches!(other.verify_access(&token), Err(AuthError::InvalidToken)));
    }
}
