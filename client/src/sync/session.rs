//! The signed-in session: tokens, the user and the account root, kept in a file readable by the
//! user only (written whole to a temporary file and renamed, so a crash never leaves half a
//! file), and refreshed before the access token runs out. A refresh token the server refuses
//! signs the device out. (The OS keychain is not used yet: see the README's notes.)

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::api::{ServerApi, TokenPair, UserInfo};
use crate::error::{ClientError, Result};

/// An access token this close to its expiry is refreshed before use.
const REFRESH_MARGIN_MS: i64 = 60_000;

#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub user: UserInfo,
    pub account_root: Uuid,
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires, Unix milliseconds.
    pub access_expires_at_ms: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("user", &self.user)
            .field("account_root", &self.account_root)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn from_pair(server: &str, pair: TokenPair, account_root: Uuid) -> Self {
        Session {
            server: server.to_owned(),
            user: pair.user,
            account_root,
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            access_expires_at_ms: now_ms() + pair.expires_in * 1000,
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where the session is kept: `session.json` in the app's data folder.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join("session.json") }
    }

    pub fn load(&self) -> Result<Option<Session>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| ClientError::corrupt("session.json", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::Invalid(format!("cannot read the session file: {e}"))),
        }
    }

    pub fn save(&self, session: &Session) -> Result<()> {
        let io = |e: std::io::Error| ClientError::Invalid(format!("cannot write the session file: {e}"));
        let bytes = serde_json::to_vec(session).map_err(|e| ClientError::Invalid(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    pub fn clear(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::Invalid(format!("cannot remove the session file: {e}"))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The live session shared by the sign-in calls and the sync task.
pub struct Credentials {
    pub(crate) api: ServerApi,
    store: TokenStore,
    session: Mutex<Option<Session>>,
}

impl Credentials {
    pub fn new(api: ServerApi, store: TokenStore) -> Result<Self> {
        let session = store.load()?.filter(|s| s.server == api.base());
        Ok(Self { api, store, session: Mutex::new(session) })
    }

    pub async fn session(&self) -> Option<Session> {
        self.session.lock().await.clone()
    }

    pub(crate) async fn set(&self, session: Session) -> Result<()> {
        self.store.save(&session)?;
        *self.session.lock().await = Some(session);
        Ok(())
    }

    /// Keeps the user's new profile in the session.
    pub(crate) async fn set_user(&self, user: UserInfo) -> Result<()> {
        let mut guard = self.session.lock().await;
        let Some(session) = guard.as_mut() else { return Err(ClientError::SignedOut) };
        session.user = user;
        self.store.save(session)
    }

    pub(crate) async fn clear(&self) -> Result<Option<Session>> {
        let old = self.session.lock().await.take();
        self.store.clear()?;
        Ok(old)
    }

    /// A usable access token, refreshed first if it is about to expire (or `force`d, after the
    /// server said it expired). A refused refresh signs the device out.
    pub async fn access_token(&self, force: bool) -> Result<String> {
        self.token(None, force).await
    }

    /// Like [`Credentials::access_token`], but only while `user` is the account signed in:
    /// `SignedOut` once another account (or none) is, so what was queued for one account is never
    /// sent with another's session.
    pub async fn access_token_of(&self, user: &str, force: bool) -> Result<String> {
        self.token(Some(user), force).await
    }

    async fn token(&self, user: Option<&str>, force: bool) -> Result<String> {
        let mut guard = self.session.lock().await;
        let Some(session) = guard.as_mut() else { return Err(ClientError::SignedOut) };
        if user.is_some_and(|user| user != session.user.id) {
            return Err(ClientError::SignedOut);
        }
        if !force && session.access_expires_at_ms - REFRESH_MARGIN_MS > now_ms() {
            return Ok(session.access_token.clone());
        }
        match self.api.refresh(&session.refresh_token).await {
            Ok(pair) => {
                let next = Session::from_pair(&session.server, pair, session.account_root);
                self.store.save(&next)?;
                let token = next.access_token.clone();
                *session = next;
                Ok(token)
            }
            Err(ClientError::Server { status: 401, code, .. }) => {
                tracing::warn!(%code, "the server refused the refresh token: signed out");
                *guard = None;
                self.store.clear()?;
                Err(ClientError::SignedOut)
            }
            Err(e) => Err(e),
        }
    }
}
