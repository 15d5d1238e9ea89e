//! Signing up, in, or in with a provider, and attaching this device's data to the account.
//!
//! Data that another account left on the device (signed out keeping it) never joins the account
//! signing in unasked: the sign-in is refused with `other_account_data` before anything is stored,
//! its session held in memory only (never saved, so a restart forgets it) until the user merges
//! the data into the account ([`Cloud::attach_other_account_data`]) or cancels
//! ([`Cloud::cancel_sign_in`], which revokes that session on the server).

use super::api::TokenPair;
use super::session::Session;
use super::social::SocialSignIn;
use super::{Cloud, UserInfo};
use crate::error::{ClientError, Result};

/// A sign-in waiting for the user's answer about another account's data on this device.
pub(super) struct Held {
    session: Session,
    user: UserInfo,
}

impl Cloud {
    /// Creates an account, attaches this device's data to it and starts syncing.
    pub async fn sign_up(&self, email: &str, password: &str, nickname: &str) -> Result<UserInfo> {
        let pair = self.credentials.api.sign_up(email, password, nickname).await?;
        self.attach(pair).await
    }

    /// Signs in, attaches this device's data to the account (merging with what the account
    /// already has) and starts syncing.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<UserInfo> {
        let pair = self.credentials.api.log_in(email, password).await?;
        self.attach(pair).await
    }

    /// Finishes a social login: trades the one-time code the server handed the app for tokens.
    pub async fn sign_in_with_code(&self, code: &str, code_verifier: &str) -> Result<UserInfo> {
        let pair = self.credentials.api.exchange(code, code_verifier).await?;
        self.attach(pair).await
    }

    /// Starts a social sign-in with `provider` (`google`, `kakao` or `naver`): open the returned
    /// `browser_url` in the system browser, then call [`Cloud::finish_social_sign_in`].
    pub async fn begin_social_sign_in(&self, provider: &str) -> Result<SocialSignIn> {
        SocialSignIn::begin(self.credentials.api.base(), provider).await
    }

    /// Waits (up to `timeout`) for the browser to come back with the one-time code, trades it for
    /// a session, attaches this device's data to the account and starts syncing.
    pub async fn finish_social_sign_in(&self, pending: SocialSignIn, timeout: std::time::Duration) -> Result<UserInfo> {
        let user = self.finish_social_sign_in_unless(pending, timeout, std::future::pending()).await?;
        user.ok_or_else(|| ClientError::Network("the sign-in stopped waiting".into()))
    }

    /// As [`Cloud::finish_social_sign_in`], but stops waiting for the browser when `cancelled`
    /// completes first (`None`). Once the code is back, the sign-in finishes whatever happens: the
    /// code is spent and the device's data is being attached to the account.
    pub async fn finish_social_sign_in_unless(
        &self,
        pending: SocialSignIn,
        timeout: std::time::Duration,
        cancelled: impl std::future::Future<Output = ()>,
    ) -> Result<Option<UserInfo>> {
        let code = tokio::select! {
            code = pending.code(timeout) => code?,
            () = cancelled => return Ok(None),
        };
        self.sign_in_with_code(&code, &pending.verifier).await.map(Some)
    }

    /// Attaches this device's data to the account the tokens are of, keeps the session and starts
    /// syncing. Data another account left here is refused first (`other_account_data`): nothing
    /// is stored, and the session waits in memory for the user's answer.
    async fn attach(&self, pair: TokenPair) -> Result<UserInfo> {
        let (user, root) = self.credentials.api.me(&pair.access_token).await?;
        let session = Session::from_pair(self.credentials.api.base(), pair, root);
        // An earlier sign-in still waiting for an answer is given up: this one replaces it.
        self.cancel_sign_in().await;
        match self.engine.adopt_account(root).await {
            Err(ClientError::OtherAccountData) => {
                *self.held.lock().await = Some(Held { session, user });
                return Err(ClientError::OtherAccountData);
            }
            adopted => adopted?,
        }
        self.keep(session).await?;
        Ok(user)
    }

    /// Finishes the sign-in refused with `other_account_data`, the user having chosen to merge:
    /// the data another account left on this device joins the account signing in (its history,
    /// routines and characters become that account's, and sync takes them to its other devices).
    /// `signed_out` if no sign-in waits for that answer.
    pub async fn attach_other_account_data(&self) -> Result<UserInfo> {
        let mut held = self.held.lock().await;
        let Some(Held { session, user }) = held.take() else { return Err(ClientError::SignedOut) };
        if let Err(e) = self.engine.adopt_other_account_data(session.account_root).await {
            // Nothing changed: the user may try again, or cancel.
            *held = Some(Held { session, user });
            return Err(e);
        }
        drop(held);
        self.keep(session).await?;
        Ok(user)
    }

    /// Gives up the sign-in refused with `other_account_data` (if any): the device stays signed
    /// out with its data as it was, and the session is revoked on the server (best effort:
    /// offline, it is forgotten here all the same).
    pub async fn cancel_sign_in(&self) {
        let Some(Held { session, .. }) = self.held.lock().await.take() else { return };
        if let Err(e) = self.credentials.api.log_out(&session.refresh_token).await {
            tracing::warn!(error = %e, "could not revoke the session of a cancelled sign-in");
        }
    }

    /// Saves the session of an account the device's data is attached to, and starts syncing.
    async fn keep(&self, session: Session) -> Result<()> {
        self.credentials.set(session).await?;
        self.start().await;
        Ok(())
    }
}
