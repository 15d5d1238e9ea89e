//! Commands of the account and sync (COMMANDS.md "Account and sync"). Signing in or up also opens
//! the social side; signing out closes it.

use std::time::Duration;

use mingizuk_client::social::Social;
use mingizuk_client::sync::{ProfileChange, UserInfo};
use mingizuk_client::{LocalData, SyncStatus};
use serde::Serialize;
use tauri::State;

use crate::error::{AppError, CommandResult};
use crate::state::Shell;

/// How long a social sign-in waits for the browser to come back.
const SOCIAL_SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub user: Option<UserInfo>,
    pub server_url: String,
}

fn local_data(keep_local: bool) -> LocalData {
    if keep_local { LocalData::Keep } else { LocalData::Remove }
}

#[tauri::command]
pub async fn account(shell: State<'_, Shell>) -> CommandResult<Account> {
    Ok(Account { user: shell.cloud.user().await, server_url: shell.config.server_url.clone() })
}

#[tauri::command]
pub async fn sign_up(
    shell: State<'_, Shell>,
    email: String,
    password: String,
    nickname: String,
) -> CommandResult<UserInfo> {
    let user = shell.cloud.sign_up(&email, &password, &nickname).await?;
    shell.open_social().await?;
    Ok(user)
}

#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, email: String, password: String) -> CommandResult<UserInfo> {
    let user = shell.cloud.sign_in(&email, &password).await?;
    shell.open_social().await?;
    Ok(user)
}

/// Opens the system browser at the server's sign-in page of `provider` and waits for the
/// loopback hand-off (RFC 8252).
#[tauri::command]
pub async fn social_sign_in(shell: State<'_, Shell>, provider: String) -> CommandResult<UserInfo> {
    let pending = shell.cloud.begin_social_sign_in(&provider).await?;
    tauri_plugin_opener::open_url(&pending.browser_url, None::<&str>)
        .map_err(|e| AppError::new("browser_failed", format!("cannot open the browser: {e}")))?;
    let user = shell.cloud.finish_social_sign_in(pending, SOCIAL_SIGN_IN_TIMEOUT).await?;
    shell.open_social().await?;
    Ok(user)
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, keep_local: bool) -> CommandResult<()> {
    shell.close_social().await;
    Ok(shell.cloud.sign_out(local_data(keep_local)).await?)
}

#[tauri::command]
pub async fn edit_profile(
    shell: State<'_, Shell>,
    nickname: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
) -> CommandResult<UserInfo> {
    Ok(shell.cloud.edit_profile(&ProfileChange { nickname, password, current_password }).await?)
}

#[tauri::command]
pub async fn delete_account(shell: State<'_, Shell>, keep_local: bool) -> CommandResult<()> {
    let user = shell.cloud.user().await;
    shell.cloud.delete_account(local_data(keep_local)).await?;
    shell.close_social().await;
    // The account's meetups, comments and chat are gone from the server; so are its queued writes.
    if let Some(user) = user {
        Social::forget(&shell.config.data_dir, &user.id)?;
    }
    Ok(())
}

#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> CommandResult<SyncStatus> {
    Ok(shell.cloud.status().borrow().clone())
}
