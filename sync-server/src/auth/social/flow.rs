//! The three steps of a social sign-in, as `Auth` methods over `dyn Storage`: start (remember the
//! attempt, send the browser to the provider), finish (check the attempt, trade the provider's code,
//! learn who signed in, find or create the account, hand the app a one-time code) and exchange (the
//! app trades that code and its PKCE verifier for a session). Nothing here knows about HTTP.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use oauth2::url::Url;
use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::super::accounts::{Auth, Session, within_grace};
use super::super::{AuthError, rules};
use super::providers::{self, ProviderIdentity};
use super::redirect::{check_app_redirect, with_query};
use super::{APP_CODE_LIFETIME, OAUTH_STATE_LIFETIME, oidc};
use crate::config::{Config, Provider, ProviderConfig};
use crate::error::ApiError;
use crate::storage::{AuthCode, CodeChallenge, NewUser, OAuthState, Storage, StorageError, TokenHash, User};

/// Random bytes in a nonce and in a one-time code.
const SECRET_BYTES: usize = 32;
/// Tries at creating an account before giving up on finding a free nickname.
const NEW_ACCOUNT_ATTEMPTS: usize = 8;
/// Generated nicknames: this prefix and five digits, 8 characters in all.
const NICKNAME_PREFIX: &str = "밍기적";
/// The domain of the placeholder address of an account whose provider gave no usable email.
const PLACEHOLDER_EMAIL_DOMAIN: &str = "social.mingizuk.invalid";
/// The shortest and longest PKCE verifiers (RFC 7636 §4.1).
const VERIFIER_LEN: std::ops::RangeInclusive<usize> = 43..=128;

/// The provider's answer on the callback route, as received.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

fn random_text() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Where the provider sends the browser back: this server's callback route.
fn callback_url(config: &Config, provider: Provider) -> Result<Url, ApiError> {
    let base = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen));
    let url = format!("{}/v1/auth/{}/callback", base.trim_end_matches('/'), provider.name());
    Url::parse(&url).map_err(|e| ApiError::internal(format!("public_url gives a bad callback {url:?}: {e}")))
}

fn provider_config(config: &Config, provider: Provider) -> Result<&ProviderConfig, AuthError> {
    config.social.provider(provider).ok_or(AuthError::ProviderNotConfigured)
}

/// The S256 challenge of a PKCE verifier.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Who starts a social sign-in: the app's address, its PKCE challenge and the client's IP.
pub struct SocialStart<'a> {
    pub app_redirect_uri: &'a str,
    pub code_challenge: &'a str,
    pub client: std::net::IpAddr,
}

impl Auth {
    /// Starts a sign-in with `provider` for an app waiting at `app_redirect_uri`, bound to the app's
    /// S256 `code_challenge`. Returns the provider's authorization URL; once the app's address is
    /// known to be allowed, a refusal (`provider_not_configured`, …) is a redirect back to it with
    /// `error`, as on the callback: the app is waiting there, not reading the browser.
    /// Starts from one client IP past `IP_SOCIAL_STARTS_PER_MINUTE` are refused `too_many_attempts`.
    pub async fn start_social_login(
        &self,
        storage: &dyn Storage,
        config: &Config,
        provider: Provider,
        start: SocialStart<'_>,
    ) -> Result<Url, ApiError> {
        let app_redirect = check_app_redirect(start.app_redirect_uri, &config.deep_link)?;
        let authorization = if self.throttle.social_start(start.client) {
            self.authorization_url(storage, config, provider, &app_redirect, start.code_challenge).await
        } else {
            Err(AuthError::TooManyAttempts.into())
        };
        match authorization {
            Ok(url) => Ok(url),
            Err(e) => {
                tracing::info!(%provider, code = e.code(), error = ?e, "a social sign-in could not start");
                Ok(with_query(app_redirect, &[("error", e.code())]))
            }
        }
    }

    async fn authorization_url(
        &self,
        storage: &dyn Storage,
        config: &Config,
        provider: Provider,
        app_redirect: &Url,
        code_challenge: &str,
    ) -> Result<Url, ApiError> {
        let provider_config = provider_config(config, provider)?;
        let app_code_challenge = CodeChallenge::parse(code_challenge).ok_or(AuthError::InvalidCodeChallenge)?;
        let nonce = random_text();
        let authorization =
            providers::authorization(provider, provider_config, &callback_url(config, provider)?, &nonce);
        storage
            .insert_oauth_state(&OAuthState {
                hash: TokenHash::of(authorization.state.as_bytes()),
                provider: provider.name().to_owned(),
                pkce_verifier: authorization.pkce_verifier,
                nonce,
                app_redirect_uri: app_redirect.to_string(),
                app_code_challenge,
                expires_at: Utc::now() + OAUTH_STATE_LIFETIME,
            })
            .await?;
        Ok(authorization.url)
    }

    /// Finishes a sign-in on the provider's callback. A missing, unknown, spent, expired or foreign
    /// `state` is an error for the browser (there is no app address to go back to); once the state
    /// is good, the answer is always a redirect to the app: with `code` on success, with `error`
    /// (a stable code) otherwise.
    pub async fn finish_social_login(
        &self,
        storage: &dyn Storage,
        config: &Config,
        provider: Provider,
        callback: Callback,
    ) -> Result<Url, ApiError> {
        let state_text = callback.state.clone().ok_or(AuthError::InvalidState)?;
        let login = storage.take_oauth_state(TokenHash::of(state_text.as_bytes())).await?;
        let login = login
            .filter(|l| l.provider == provider.name() && l.expires_at > Utc::now())
            .ok_or(AuthError::InvalidState)?;
        let app_redirect = Url::parse(&login.app_redirect_uri)
            .map_err(|e| ApiError::internal(format!("a stored app redirect does not parse: {e}")))?;
        match self.complete(storage, config, provider, &login, &state_text, callback).await {
            Ok(code) => Ok(with_query(app_redirect, &[("code", &code)])),
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(%provider, code = e.code(), error = ?e, "a social sign-in failed");
                } else {
                    tracing::info!(%provider, code = e.code(), "a social sign-in was refused");
                }
                Ok(with_query(app_redirect, &[("error", e.code())]))
            }
        }
    }

    /// The part of finishing that talks to the provider; returns the app's one-time code.
    async fn complete(
        &self,
        storage: &dyn Storage,
        config: &Config,
        provider: Provider,
        login: &OAuthState,
        state_text: &str,
        callback: Callback,
    ) -> Result<String, ApiError> {
        let code = match (callback.error, callback.code) {
            (None, Some(code)) if !code.is_empty() => code,
            _ => return Err(AuthError::ProviderDenied.into()),
        };
        let provider_config = provider_config(config, provider)?;
        let http = providers::http_client()?;
        let callback_url = callback_url(config, provider)?;
        let tokens = providers::exchange_code(
            &http,
            provider,
            provider_config,
            &callback_url,
            code,
            login.pkce_verifier.clone(),
            state_text,
        )
        .await?;
        let identity = if provider.is_oidc() {
            let id_token = tokens.id_token().ok_or(AuthError::InvalidIdToken)?;
            oidc::verify_id_token(&http, provider_config, id_token, &login.nonce).await?
        } else {
            use oauth2::TokenResponse;
            providers::userinfo(&http, provider, provider_config, tokens.access_token()).await?
        };
        let user = self.social_user(storage, provider, identity).await?;
        let code = random_text();
        storage
            .insert_auth_code(&AuthCode {
                hash: TokenHash::of(code.as_bytes()),
                user_id: user.id,
                code_challenge: login.app_code_challenge,
                expires_at: Utc::now() + APP_CODE_LIFETIME,
            })
            .await?;
        tracing::info!(user = %user.id, %provider, "social sign-in finished; one-time code issued");
        Ok(code)
    }

    /// The account of a provider identity: found by (provider, subject), restored if deleted within
    /// the grace period, or created with a generated nickname.
    async fn social_user(
        &self,
        storage: &dyn Storage,
        provider: Provider,
        identity: ProviderIdentity,
    ) -> Result<User, ApiError> {
        if let Some(user) = storage.user_by_identity(provider.name(), &identity.subject).await? {
            return restored(storage, user).await;
        }
        // The provider's address when it gave a valid one that is free; else a placeholder, so a
        // social account never takes over a local one that shares its email.
        let mut email = identity.email.as_deref().and_then(|e| rules::normalize_email(e).ok());
        for _ in 0..NEW_ACCOUNT_ATTEMPTS {
            let new = NewUser {
                id: crate::storage::UserId::random(),
                email: email.clone().unwrap_or_else(|| placeholder_email(provider)),
                nickname: generated_nickname(),
                password_hash: None,
            };
            match storage.create_user_with_identity(&new, provider.name(), &identity.subject).await {
                Ok(user) => {
                    tracing::info!(user = %user.id, %provider, "account created by social sign-in");
                    return Ok(user);
                }
                Err(StorageError::EmailTaken) => email = None,
                Err(StorageError::NicknameTaken) => {}
                Err(StorageError::IdentityTaken) => {
                    // A concurrent first sign-in of the same person won; use its account.
                    let user = storage.user_by_identity(provider.name(), &identity.subject).await?;
                    let user = user.ok_or_else(|| ApiError::internal("a linked identity has no account"))?;
                    return restored(storage, user).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::internal("no free generated nickname after several tries"))
    }

    /// Trades the app's one-time code and the verifier of its challenge for a session. The code is
    /// spent by the attempt, right or wrong.
    pub async fn exchange_app_code(
        &self,
        storage: &dyn Storage,
        code: &str,
        code_verifier: &str,
    ) -> Result<Session, ApiError> {
        let found = storage.take_auth_code(TokenHash::of(code.as_bytes())).await?;
        let verifier_ok = VERIFIER_LEN.contains(&code_verifier.len())
            && code_verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        let found = found
            .filter(|c| c.expires_at > Utc::now())
            .filter(|c| verifier_ok && s256(code_verifier) == c.code_challenge.as_str())
            .ok_or(AuthError::InvalidGrant)?;
        let user = storage.user_by_id(found.user_id).await?.filter(|u| u.deleted_at.is_none());
        let user = user.ok_or(AuthError::InvalidGrant)?;
        self.start_session(storage, user).await
    }
}

/// A found account, brought back if it was deleted within the grace period.
async fn restored(storage: &dyn Storage, user: User) -> Result<User, ApiError> {
    if user.deleted_at.is_none() {
        return Ok(user);
    }
    if !within_grace(&user) {
        return Err(AuthError::InvalidCredentials.into());
    }
    storage.restore_user(user.id).await?;
    tracing::info!(user = %user.id, "deleted account restored by social sign-in");
    Ok(User { deleted_at: None, ..user })
}

fn generated_nickname() -> String {
    format!("{NICKNAME_PREFIX}{:05}", rand::rng().random_range(0..100_000u32))
}

fn placeholder_email(provider: Provider) -> String {
    format!("{}.{}@{PLACEHOLDER_EMAIL_DOMAIN}", provider.name(), Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_nicknames_fit_the_nickname_rule() {
        for _ in 0..100 {
            let nickname = generated_nickname();
            assert_eq!(rules::normalize_nickname(&nickname).ok(), Some(nickname.clone()));
            assert_eq!(nickname.chars().count(), 8);
        }
    }

    #[test]
    fn s256_agrees_with_the_oauth2_crate() {
        let verifier = oauth2::PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU9p1r_wW-gXFPUhE9Y".into());
        let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(s256(verifier.secret()), challenge.as_str());
        assert_eq!(challenge.method().as_str(), "S256");
    }
}
