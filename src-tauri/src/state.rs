//! The shell's state, managed by Tauri and shared by every command: the engine (personal data),
//! the cloud link (sign-in and document sync), the social side while signed in, and this
//! device's own settings. It owns the background tasks that forward the client's changes to the
//! UI as events; it holds no product rule.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mingizuk_client::social::Social;
use mingizuk_client::sync::{OsKeychain, TokenStore};
use mingizuk_client::{Cloud, Engine, SystemClock};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify, RwLock};
use tokio::task::JoinHandle;

use crate::error::{AppError, CommandResult};
use crate::events::Emit;

/// Where the app reads its configuration: the environment (COMMANDS.md "Configuration").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub server_url: String,
    pub data_dir: PathBuf,
    pub tile_url: String,
    /// Where "export my data" writes its files.
    pub export_dir: PathBuf,
    /// Whether the session's tokens go to the OS keychain (`MINGIZUK_KEYCHAIN=off`: the file).
    pub keychain: bool,
}

/// The environment variables of the app's settings (the README's configuration table).
pub const SERVER_VAR: &str = "MINGIZUK_SERVER";
pub const DATA_DIR_VAR: &str = "MINGIZUK_DATA_DIR";
pub const TILE_URL_VAR: &str = "MINGIZUK_TILE_URL";
pub const EXPORT_DIR_VAR: &str = "MINGIZUK_EXPORT_DIR";
pub const KEYCHAIN_VAR: &str = "MINGIZUK_KEYCHAIN";

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8787";
/// The keychain service the session's tokens are kept under (the app's identifier).
pub const KEYCHAIN_SERVICE: &str = "app.mingizuk.desktop";
pub const DEFAULT_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

impl Config {
    /// Reads `MINGIZUK_SERVER`, `MINGIZUK_DATA_DIR`, `MINGIZUK_TILE_URL` and
    /// `MINGIZUK_EXPORT_DIR`, with `default_data_dir` (Tauri's app data folder) and
    /// `default_export_dir` (the user's downloads folder) when the folders are not set.
    pub fn from_env(default_data_dir: PathBuf, default_export_dir: PathBuf) -> Config {
        let (server_url, tile_url) = configured_urls();
        Config {
            server_url,
            data_dir: var(DATA_DIR_VAR).map(PathBuf::from).unwrap_or(default_data_dir),
            tile_url,
            export_dir: var(EXPORT_DIR_VAR).map(PathBuf::from).unwrap_or(default_export_dir),
            // Android has no keychain the `keyring` crate reaches: the file there.
            keychain: !cfg!(target_os = "android") && var(KEYCHAIN_VAR).as_deref() != Some("off"),
        }
    }
}

/// How often the engine's idle housekeeping runs while the app is open.
const MAINTAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `Engine::maintain` (compacting the documents that gathered many small chunks, so a month's
/// log loads from one chunk rather than hundreds) every `MAINTAIN_EVERY` while the app is open.
fn maintain_while_open(engine: &Arc<Engine>) {
    let engine = Arc::downgrade(engine);
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(MAINTAIN_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(engine) = engine.upgrade() else { return };
            if let Err(e) = engine.maintain().await {
                tracing::warn!(error = %e, "the engine's housekeeping failed; it runs again later");
            }
        }
    });
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The sync server's and the map tiles' URLs (`MINGIZUK_SERVER`, `MINGIZUK_TILE_URL`, else the
/// defaults), also read before the app is built, for its content security policy.
pub fn configured_urls() -> (String, String) {
    (
        var(SERVER_VAR).unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        var(TILE_URL_VAR).unwrap_or_else(|| DEFAULT_TILE_URL.to_owned()),
    )
}

/// What this device keeps for itself, never synced (`device.json` in the data folder).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSettings {
    #[serde(default)]
    pub onboarded: bool,
    /// The user was told that closing the window leaves the app running for its reminders.
    #[serde(default)]
    pub told_about_background: bool,
}

impl DeviceSettings {
    fn path(dir: &Path) -> PathBuf {
        dir.join("device.json")
    }

    pub fn load(dir: &Path) -> DeviceSettings {
        std::fs::read(Self::path(dir)).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    pub fn save(&self, dir: &Path) -> CommandResult<()> {
        crate::files::write_json(&Self::path(dir), self)
    }
}

pub struct Shell {
    pub config: Config,
    pub engine: Arc<Engine>,
    pub cloud: Arc<Cloud>,
    social: RwLock<Option<Arc<Social>>>,
    social_events: Mutex<Option<JoinHandle<()>>>,
    pub device: Mutex<DeviceSettings>,
    /// Wakes the reminder task before its next tick (the reminder time changed, a joined meetup
    /// changed on the server).
    pub reminders: Arc<Notify>,
    /// Ends a social sign-in waiting for the browser (the user gave up on it).
    pub cancel_social_sign_in: Notify,
    emit: Emit,
}

impl Shell {
    /// Opens the device's data and resumes a saved session (sync and the social side start in
    /// the background; nothing here waits for the network).
    pub async fn open(config: Config, emit: Emit) -> CommandResult<Shell> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| AppError::new("storage_failed", format!("cannot create the data folder: {e}")))?;
        let engine = Arc::new(Engine::open(&config.data_dir.join("device.sqlite"), Arc::new(SystemClock)).await?);
        let tokens = if config.keychain {
            // One entry per data folder, so that two folders (a second profile, a test) keep two sessions.
            let account = config.data_dir.display().to_string();
            TokenStore::with_keychain(&config.data_dir, Arc::new(OsKeychain::new(KEYCHAIN_SERVICE, &account)))
        } else {
            TokenStore::in_dir(&config.data_dir)
        };
        let cloud = Arc::new(Cloud::with_tokens(engine.clone(), &config.server_url, tokens)?);
        let device = Mutex::new(DeviceSettings::load(&config.data_dir));
        let shell = Shell {
            config,
            engine,
            cloud,
            social: RwLock::new(None),
            social_events: Mutex::new(None),
            device,
            reminders: Arc::new(Notify::new()),
            cancel_social_sign_in: Notify::new(),
            emit,
        };
        crate::events::forward_sync_status(&shell.cloud, shell.emit.clone());
        maintain_while_open(&shell.engine);
        if shell.cloud.user().await.is_some() {
            shell.cloud.resume().await?;
            shell.open_social().await?;
        }
        Ok(shell)
    }

    /// The social side; `signed_out` while no account is signed in.
    pub async fn social(&self) -> CommandResult<Arc<Social>> {
        self.social.read().await.clone().ok_or_else(AppError::signed_out)
    }

    /// The social side if signed in (for background tasks that skip it otherwise).
    pub async fn social_if_signed_in(&self) -> Option<Arc<Social>> {
        self.social.read().await.clone()
    }

    /// Opens the social side for the signed-in account (after sign-in, or at start with a saved
    /// session), starts its outbox and live chat, and forwards its events to the UI.
    pub async fn open_social(&self) -> CommandResult<()> {
        self.close_social().await;
        let social = Arc::new(Social::open(self.cloud.credentials(), &self.config.data_dir).await?);
        social.start().await;
        *self.social_events.lock().await = Some(crate::events::forward_social(&social, self.emit.clone()));
        *self.social.write().await = Some(social);
        // The account's joined meetups are asked of the server at once (reminders.rs).
        self.reminders.notify_one();
        Ok(())
    }

    /// Stops the social side (signing out): queued writes stay queued in the cache.
    pub async fn close_social(&self) {
        if let Some(task) = self.social_events.lock().await.take() {
            task.abort();
        }
        if let Some(social) = self.social.write().await.take() {
            // Closed (its database too, so the file can be deleted) unless a command still holds it.
            match Arc::try_unwrap(social) {
                Ok(social) => social.close().await,
                Err(shared) => shared.stop().await,
            }
        }
    }
}
