//! The account flows over `dyn Storage`: each takes parsed input, applies the rules, and returns a
//! session or a user. HTTP handlers call exactly one of these; nothing here knows about HTTP.

use std::net::IpAddr;

use chrono::{Duration, Utc};

use super::throttle::LoginThrottle;
use super::tokens::{REFRESH_TOKEN_LIFETIME, TokenKeys, new_refresh_token, refresh_token_hash};
use super::{AuthError, password, rules};
use crate::error::ApiError;
use crate::storage::meetups::DeletedMeetup;
use crate::storage::{NewRefreshToken, NewUser, Rotation, Storage, TokenFamily, User, UserId};

/// Days a deleted account can still be restored by signing in (PRODUCT.md §2); the purge job
/// removes it after that.
pub const ACCOUNT_RESTORE_DAYS: i64 = 30;

/// What the token endpoints need besides storage: the signing keys and the login throttle.
#[derive(Debug)]
pub struct Auth {
    pub keys: TokenKeys,
    pub throttle: LoginThrottle,
}

/// A sign-up form as received.
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub nickname: String,
}

/// A profile edit as received: a nickname, a new password with the current one, or both.
pub struct ProfileChange {
    pub nickname: Option<String>,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// A signed-in session: the user and a fresh token pair.
pub struct Session {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

impl Auth {
    pub fn new(keys: TokenKeys) -> Self {
        Self { keys, throttle: LoginThrottle::new() }
    }

    /// Creates a local account and signs it in.
    pub async fn sign_up(&self, storage: &dyn Storage, form: SignUp) -> Result<Session, ApiError> {
        let email = rules::normalize_email(&form.email)?;
        rules::check_password(&form.password)?;
        let nickname = rules::normalize_nickname(&form.nickname)?;
        let password_hash = password::hash(form.password).await?;
        let new = NewUser { id: UserId::random(), email, nickname, password_hash: Some(password_hash) };
        let user = storage.create_user(&new).await?;
        tracing::info!(user = %user.id, "account created");
        self.start_session(storage, user).await
    }

    /// Signs in with email and password. Unknown email, social-only account and wrong password
    /// answer alike. A deleted account within its grace period is restored.
    pub async fn log_in(
        &self,
        storage: &dyn Storage,
        client: IpAddr,
        email: &str,
        given_password: String,
    ) -> Result<Session, ApiError> {
        // A malformed email has no account, but still counts against its own key.
        let email = rules::normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
        let attempt = self.throttle.begin(&email, client).ok_or(AuthError::TooManyAttempts)?;
        let user = storage.user_by_email(&email).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = password::verify(given_password, stored).await?;
        let user = match user {
            Some(user) if matches && within_grace(&user) => user,
            _ => {
                attempt.failed();
                return Err(AuthError::InvalidCredentials.into());
            }
        };
        attempt.succeeded();
        let user = if user.deleted_at.is_some() {
            storage.restore_user(user.id).await?;
            tracing::info!(user = %user.id, "deleted account restored by signing in");
            User { deleted_at: None, ..user }
        } else {
            user
        };
        self.start_session(storage, user).await
    }

    /// Trades a live refresh token for a new pair; the presented token is spent. Presenting a spent
    /// one revokes its whole family.
    pub async fn refresh(&self, storage: &dyn Storage, refresh_token: &str) -> Result<Session, ApiError> {
        let (next_text, next_hash) = new_refresh_token();
        let rotation = storage
            .rotate_refresh_token(refresh_token_hash(refresh_token), next_hash, Utc::now() + REFRESH_TOKEN_LIFETIME)
            .await?;
        let (user_id, family) = match rotation {
            Rotation::Rotated { user_id, family } => (user_id, family),
            Rotation::Reused { user_id, family } => {
                let revoked = storage.revoke_token_family(family).await?;
                tracing::warn!(user = %user_id, revoked, "a spent refresh token was presented again; family revoked");
                return Err(AuthError::RefreshTokenReused.into());
            }
            Rotation::Expired => return Err(AuthError::TokenExpired.into()),
            Rotation::Revoked | Rotation::Unknown => return Err(AuthError::InvalidToken.into()),
        };
        let Some(user) = storage.user_by_id(user_id).await?.filter(|u| u.deleted_at.is_none()) else {
            storage.revoke_token_family(family).await?;
            return Err(AuthError::InvalidToken.into());
        };
        let (access_token, expires_in) = self.keys.issue_access(user.id, Utc::now())?;
        Ok(Session { user, access_token, refresh_token: next_text, expires_in })
    }

    /// Ends the login a refresh token belongs to. Unknown tokens are ignored: the outcome the
    /// client wants (that token no longer works) already holds.
    pub async fn log_out(&self, storage: &dyn Storage, refresh_token: &str) -> Result<(), ApiError> {
        if let Some(family) = storage.token_family(refresh_token_hash(refresh_token)).await? {
            storage.revoke_token_family(family).await?;
        }
        Ok(())
    }

    /// The signed-in user's account, if it is still live. A token of an account deleted since it
    /// was issued names no one any more: `invalid_token`, as `/v1/sync` and `/v1/chat` say too.
    pub async fn current_user(&self, storage: &dyn Storage, id: UserId) -> Result<User, ApiError> {
        match storage.user_by_id(id).await? {
            Some(user) if user.deleted_at.is_none() => Ok(user),
            _ => Err(AuthError::InvalidToken.into()),
        }
    }

    /// Changes the nickname and/or the password (which needs the current one).
    pub async fn change_profile(
        &self,
        storage: &dyn Storage,
        client: IpAddr,
        id: UserId,
        change: ProfileChange,
    ) -> Result<User, ApiError> {
        let user = self.current_user(storage, id).await?;
        if change.nickname.is_none() && change.password.is_none() {
            return Err(AuthError::NothingToChange.into());
        }
        let nickname = change.nickname.as_deref().map(rules::normalize_nickname).transpose()?;
        let new_password = match change.password {
            Some(new_password) => {
                let current = change.current_password.ok_or(AuthError::CurrentPasswordRequired)?;
                rules::check_password(&new_password)?;
                // Guessing the current password with a stolen access token is throttled like a login.
                let attempt = self.throttle.begin(&user.email, client).ok_or(AuthError::TooManyAttempts)?;
                if !password::verify(current, user.password_hash.clone()).await? {
                    attempt.failed();
                    return Err(AuthError::WrongCurrentPassword.into());
                }
                attempt.succeeded();
                Some(password::hash(new_password).await?)
            }
            None => None,
        };
        // The nickname first: it is the part that can be refused (taken), and a refused change
        // must change nothing.
        if let Some(nickname) = nickname {
            storage.set_nickname(id, &nickname).await?;
        }
        if let Some(hash) = new_password {
            storage.set_password_hash(id, &hash).await?;
            tracing::info!(user = %id, "password changed");
        }
        self.current_user(storage, id).await
    }

    /// Soft-deletes the account, revokes all its refresh tokens and deletes the meetups it hosts,
    /// in one transaction (`Storage::soft_delete_user`); returns those meetups, whose images and
    /// rooms the caller cleans up.
    pub async fn delete_account(&self, storage: &dyn Storage, id: UserId) -> Result<Vec<DeletedMeetup>, ApiError> {
        self.current_user(storage, id).await?;
        let hosted = storage.soft_delete_user(id).await?;
        tracing::info!(user = %id, "account deleted (restorable for {ACCOUNT_RESTORE_DAYS} days)");
        Ok(hosted)
    }

    pub(super) async fn start_session(&self, storage: &dyn Storage, user: User) -> Result<Session, ApiError> {
        let now = Utc::now();
        let (refresh_token, hash) = new_refresh_token();
        storage
            .insert_refresh_token(&NewRefreshToken {
                hash,
                user_id: user.id,
                family: TokenFamily::random(),
                expires_at: now + REFRESH_TOKEN_LIFETIME,
            })
            .await?;
        let (access_token, expires_in) = self.keys.issue_access(user.id, now)?;
        Ok(Session { user, access_token, refresh_token, expires_in })
    }
}

/// Live, or deleted recently enough to be restored.
pub(super) fn within_grace(user: &User) -> bool {
    user.deleted_at.is_none_or(|deleted_at| Utc::now() - deleted_at < Duration::days(ACCOUNT_RESTORE_DAYS))
}
