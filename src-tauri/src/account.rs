//! Commands of the account and sync (COMMANDS.md "Account and sync"). Signing in or up also opens
//! the social side; signing out closes it.

use std::time::Duration;

use mingizuk_client::social::Social;
use mingizuk_client::sync::{ProfileChange, UNSYNCED_PATIENCE, UserInfo};
use mingizuk_client::{ClientError, LocalData, SyncStatus};
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

/// What becomes of this device's data. Removing it is refused with `unsynced_changes` while the
/// server lacks changes made here, unless `discard_unsynced` (the user agreed to lose them).
fn local_data(keep_local: bool, discard_unsynced: Option<bool>) -> LocalData {
    match (keep_local, discard_unsynced.unwrap_or(false)) {
        (true, _) => LocalData::Keep,
        (false, false) => LocalData::Remove,
        (false, true) => LocalData::Discard,
    }
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
/// loopback hand-off (RFC 8252), until [`cancel_social_sign_in`] (`sign_in_cancelled`).
#[tauri::command]
pub async fn social_sign_in(shell: State<'_, Shell>, provider: String) -> CommandResult<UserInfo> {
    // Listening before the browser opens: a cancel pressed at once is not missed.
    let cancelled = shell.cancel_social_sign_in.notified();
    tokio::pin!(cancelled);
    cancelled.as_mut().enable();
    let pending = shell.cloud.begin_social_sign_in(&provider).await?;
    tauri_plugin_opener::open_url(&pending.browser_url, None::<&str>)
        .map_err(|e| AppError::new("browser_failed", format!("cannot open the browser: {e}")))?;
    // A cancel ends only the wait for the browser: once the code is back the sign-in completes.
    let finished = shell.cloud.finish_social_sign_in_unless(pending, SOCIAL_SIGN_IN_TIMEOUT, cancelled);
    let Some(user) = finished.await? else {
        return Err(AppError::new("sign_in_cancelled", "the sign-in was cancelled"));
    };
    shell.open_social().await?;
    Ok(user)
}

/// Gives up the social sign-in waiting for the browser, if any: it fails with
/// `sign_in_cancelled` and the sign-in form is free again.
#[tauri::command]
pub fn cancel_social_sign_in(shell: State<'_, Shell>) {
    shell.cancel_social_sign_in.notify_waiters();
}

/// Finishes a sign-in (`sign_up`, `sign_in`, `social_sign_in`) refused with `other_account_data`,
/// the user having chosen to merge the data another account left on this device into this one.
#[tauri::command]
pub async fn attach_other_account_data(shell: State<'_, Shell>) -> CommandResult<UserInfo> {
    let user = shell.cloud.attach_other_account_data().await?;
    shell.open_social().await?;
    Ok(user)
}

/// Gives up a sign-in refused with `other_account_data`: signed out, the device's data untouched.
#[tauri::command]
pub async fn cancel_sign_in(shell: State<'_, Shell>) -> CommandResult<()> {
    shell.cloud.cancel_sign_in().await;
    Ok(())
}

/// Signs out; the social side closes once the sign-out went through (a refusal keeps it all).
/// Removing the device's data removes the account's meetup and chat cache with it, and so counts
/// the writes queued there (messages, comments, meetups) as changes the server lacks.
#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, keep_local: bool, discard_unsynced: Option<bool>) -> CommandResult<()> {
    let local = local_data(keep_local, discard_unsynced);
    let user = shell.cloud.user().await;
    if local == LocalData::Remove {
        social_writes_sent(&shell).await?;
    }
    shell.cloud.sign_out(local).await?;
    shell.close_social().await;
    if let (Some(user), LocalData::Remove | LocalData::Discard) = (user, local) {
        forget_social(&shell, &user.id);
    }
    Ok(())
}

/// Deletes the account's meetup cache after a sign-out or deletion went through. A failure (the
/// file still open on Windows) is logged, not answered: the sign-out itself is done.
fn forget_social(shell: &Shell, user_id: &str) {
    if let Err(e) = Social::forget(&shell.config.data_dir, user_id) {
        tracing::warn!(error = %e, "the signed-out account's meetup cache could not be deleted");
    }
}

/// Gives the social outbox up to `UNSYNCED_PATIENCE` to send what it holds (the same patience as
/// the documents' sync); `unsynced_changes` if writes still wait. Refused writes do not count:
/// they will never be sent.
async fn social_writes_sent(shell: &Shell) -> CommandResult<()> {
    let Some(social) = shell.social_if_signed_in().await else { return Ok(()) };
    social.send_now();
    let deadline = tokio::time::Instant::now() + UNSYNCED_PATIENCE;
    while social.outbox().await?.iter().any(|write| write.refused.is_none()) {
        if tokio::time::Instant::now() >= deadline {
            return Err(ClientError::UnsyncedChanges.into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
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
pub async fn delete_account(
    shell: State<'_, Shell>,
    keep_local: bool,
    discard_unsynced: Option<bool>,
) -> CommandResult<()> {
    let user = shell.cloud.user().await;
    shell.cloud.delete_account(local_data(keep_local, discard_unsynced)).await?;
    shell.close_social().await;
    // The account's meetups, comments and chat are gone from the server; so are its queued writes.
    if let Some(user) = user {
        forget_social(&shell, &user.id);
    }
    Ok(())
}

#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> CommandResult<SyncStatus> {
    Ok(shell.cloud.status().borrow().clone())
}
