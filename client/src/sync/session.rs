//! The signed-in session: tokens, the user and the account root, refreshed before the access
//! token runs out. A refresh token the server refuses signs the device out.
//!
//! Kept in `session.json`, readable by the user only (written whole to a temporary file and
//! renamed, so a crash never leaves half a file). With an OS keychain (the app's store) the two
//! tokens go to the keychain and the file keeps only who is signed in; when the keychain cannot
//! be used, the tokens stay in the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::api::{ServerApi, TokenPair, UserInfo};
use super::keychain::SecretStore;
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

/// `session.json` as written: the session, with empty tokens when the keychain holds them.
#[derive(Serialize, Deserialize)]
struct OnDisk {
    #[serde(flatten)]
    session: Session,
    #[serde(default)]
    tokens_in_keychain: bool,
}

/// What the keychain holds: the two tokens.
#[derive(Serialize, Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

/// Where the session is kept: `session.json` in the app's data folder, and the tokens in the OS
/// keychain when there is one.
#[derive(Clone)]
pub struct TokenStore {
    path: PathBuf,
    keychain: Option<Arc<dyn SecretStore>>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore").field("path", &self.path).field("keychain", &self.keychain.is_some()).finish()
    }
}

impl TokenStore {
    /// The session in the data folder's file only (tests, tools, systems without a keychain).
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join("session.json"), keychain: None }
    }

    /// The tokens in `keychain`, the rest in the data folder's file.
    pub fn with_keychain(dir: &Path, keychain: Arc<dyn SecretStore>) -> Self {
        Self { path: dir.join("session.json"), keychain: Some(keychain) }
    }

    /// The saved session. Tokens the keychain should hold but does not (deleted by hand, or the
    /// keychain is gone) leave the device signed out, never half signed in.
    pub fn load(&self) -> Result<Option<Session>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ClientError::Invalid(format!("cannot read the session file: {e}"))),
        };
        let OnDisk { mut session, tokens_in_keychain } =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::corrupt("session.json", e))?;
        if !tokens_in_keychain {
            return Ok(Some(session));
        }
        let secret = match self.keychain.as_ref().map(|k| k.get()) {
            Some(Ok(Some(secret))) => secret,
            Some(Ok(None)) => {
                tracing::warn!("the keychain no longer holds this device's tokens: signed out");
                return Ok(None);
            }
            Some(Err(e)) => {
                tracing::warn!("cannot read the tokens from the keychain ({e}): signed out for now");
                return Ok(None);
            }
            None => return Ok(None),
        };
        let tokens: Tokens =
            serde_json::from_str(&secret).map_err(|e| ClientError::corrupt("the keychain entry", e))?;
        session.access_token = tokens.access_token;
        session.refresh_token = tokens.refresh_token;
        Ok(Some(session))
    }

    /// Saves the session: the tokens to the keychain if it takes them, else to the file.
    pub fn save(&self, session: &Session) -> Result<()> {
        let mut on_disk = OnDisk { session: session.clone(), tokens_in_keychain: false };
        if let Some(keychain) = &self.keychain {
            let tokens =
                Tokens { access_token: session.access_token.clone(), refresh_token: session.refresh_token.clone() };
            let secret = serde_json::to_string(&tokens).map_err(|e| ClientError::Invalid(e.to_string()))?;
            match keychain.set(&secret) {
                Ok(()) => {
                    on_disk.session.access_token.clear();
                    on_disk.session.refresh_token.clear();
                    on_disk.tokens_in_keychain = true;
                }
                Err(e) => tracing::warn!("the keychain cannot take the tokens ({e}); they stay in session.json"),
            }
        }
        self.write(&on_disk)
    }

    fn write(&self, on_disk: &OnDisk) -> Result<()> {
        let io = |e: std::io::Error| ClientError::Invalid(format!("cannot write the session file: {e}"));
        let bytes = serde_json::to_vec(on_disk).map_err(|e| ClientError::Invalid(e.to_string()))?;
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

    /// Forgets the session: the file and the keychain's tokens.
    pub fn clear(&self) -> Result<()> {
        if let Some(keychain) = &self.keychain
            && let Err(e) = keychain.delete()
        {
            tracing::warn!("cannot remove the tokens from the keychain: {e}");
        }
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
    store: Arc<TokenStore>,
    session: Arc<Mutex<Option<Session>>>,
}

impl Credentials {
    pub fn new(api: ServerApi, store: TokenStore) -> Result<Self> {
        let session = store.load()?.filter(|s| s.server == api.base());
        Ok(Self { api, store: Arc::new(store), session: Arc::new(Mutex::new(session)) })
    }

    pub async fn session(&self) -> Option<Session> {
        self.session.lock().await.clone()
    }

    pub(crate) async fn set(&self, session: Session) -> Result<()> {
        // Under the lock, so a refresh of the previous session finishing meanwhile cannot save its
        // tokens over these.
        let mut guard = self.session.lock().await;
        self.store.save(&session)?;
        *guard = Some(session);
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
        if let Some(token) = usable(&*self.session.lock().await, user, force)? {
            return Ok(token);
        }
        // In a task of its own: the server rotates the refresh token as it answers, so a caller
        // dropped meanwhile (the app stopping a task) must not lose the new one — the next refresh
        // would present the spent one, be taken for a stolen token and sign the device out.
        let (api, store, session) = (self.api.clone(), Arc::clone(&self.store), Arc::clone(&self.session));
        let user = user.map(str::to_owned);
        let refresh = tokio::spawn(async move { refresh(&api, &store, &session, user.as_deref(), force).await });
        refresh.await.map_err(|e| ClientError::Network(format!("the token refresh did not finish: {e}")))?
    }
}

/// The session's access token if it needs no refresh; `SignedOut` if no session, or another
/// account's than `user`.
fn usable(session: &Option<Session>, user: Option<&str>, force: bool) -> Result<Option<String>> {
    let Some(session) = session else { return Err(ClientError::SignedOut) };
    if user.is_some_and(|user| user != session.user.id) {
        return Err(ClientError::SignedOut);
    }
    let fresh = !force && session.access_expires_at_ms - REFRESH_MARGIN_MS > now_ms();
    Ok(fresh.then(|| session.access_token.clone()))
}

/// Refreshes the session's tokens and saves them (unless another caller did while this one
/// waited for the lock). A refused refresh signs the device out.
async fn refresh(
    api: &ServerApi,
    store: &TokenStore,
    session: &Mutex<Option<Session>>,
    user: Option<&str>,
    force: bool,
) -> Result<String> {
    let mut guard = session.lock().await;
    if let Some(token) = usable(&guard, user, force)? {
        return Ok(token);
    }
    let Some(session) = guard.as_mut() else { return Err(ClientError::SignedOut) };
    match api.refresh(&session.refresh_token).await {
        Ok(pair) => {
            let next = Session::from_pair(&session.server, pair, session.account_root);
            store.save(&next)?;
            let token = next.access_token.clone();
            *session = next;
            Ok(token)
        }
        Err(ClientError::Server { status: 401, code, .. }) => {
            tracing::warn!(%code, "the server refused the refresh token: signed out");
            *guard = None;
            store.clear()?;
            Err(ClientError::SignedOut)
        }
        Err(e) => Err(e),
    }
}
