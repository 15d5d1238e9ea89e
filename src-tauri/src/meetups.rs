//! Commands of meetups, comments, likes and chat (COMMANDS.md "Meetups"): each one call into the
//! social side, which needs an account (`signed_out` otherwise). Reads fall back to the cache
//! offline; writes go through the outbox and return its key.

use mingizuk_client::social::{ChatMessage, Listing, MeetupId, OutboxItem, Place, Role, Sort, Uploaded};
use serde_json::Value;
use tauri::State;

use crate::error::{AppError, CommandResult};
use crate::state::Shell;

#[tauri::command]
pub async fn meetups(
    shell: State<'_, Shell>,
    sort: Sort,
    region: Option<String>,
    cursor: Option<String>,
) -> CommandResult<Listing> {
    Ok(shell.social().await?.meetups(sort, region.as_deref(), cursor.as_deref()).await?)
}

#[tauri::command]
pub async fn my_meetups(shell: State<'_, Shell>, role: Role) -> CommandResult<Vec<Value>> {
    Ok(shell.social().await?.my_meetups(role).await?)
}

#[tauri::command]
pub async fn my_comments(shell: State<'_, Shell>) -> CommandResult<Vec<Value>> {
    Ok(shell.social().await?.my_comments().await?)
}

#[tauri::command]
pub async fn meetup(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<Option<Value>> {
    Ok(shell.social().await?.meetup(id).await?)
}

#[tauri::command]
pub async fn comments(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<Vec<Value>> {
    Ok(shell.social().await?.comments(id).await?)
}

#[tauri::command]
pub async fn messages(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<Vec<ChatMessage>> {
    Ok(shell.social().await?.messages(id).await?)
}

#[tauri::command]
pub async fn older_messages(shell: State<'_, Shell>, id: MeetupId, before_seq: i64) -> CommandResult<Vec<ChatMessage>> {
    Ok(shell.social().await?.older_messages(id, before_seq).await?)
}

#[tauri::command]
pub async fn notice(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<Option<Value>> {
    Ok(shell.social().await?.notice(id).await?)
}

#[tauri::command]
pub async fn outbox(shell: State<'_, Shell>) -> CommandResult<Vec<OutboxItem>> {
    Ok(shell.social().await?.outbox().await?)
}

/// Follows the room live; answers whether the live chat is connected now (later changes come as
/// `online` events).
#[tauri::command]
pub async fn open_room(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<bool> {
    let social = shell.social().await?;
    social.open_room(id);
    Ok(*social.online().borrow())
}

#[tauri::command]
pub async fn create_meetup(shell: State<'_, Shell>, meetup: Value) -> CommandResult<String> {
    crate::reminders::queue_then_look(&shell, |social| async move { social.create_meetup(meetup).await }).await
}

#[tauri::command]
pub async fn edit_meetup(shell: State<'_, Shell>, id: MeetupId, changes: Value) -> CommandResult<String> {
    crate::reminders::queue_then_look(&shell, |social| async move { social.edit_meetup(id, changes).await }).await
}

#[tauri::command]
pub async fn delete_meetup(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<String> {
    Ok(shell.social().await?.delete_meetup(id).await?)
}

#[tauri::command]
pub async fn like(shell: State<'_, Shell>, id: MeetupId, liked: bool) -> CommandResult<String> {
    Ok(shell.social().await?.like(id, liked).await?)
}

#[tauri::command]
pub async fn comment(shell: State<'_, Shell>, id: MeetupId, text: String) -> CommandResult<String> {
    Ok(shell.social().await?.comment(id, &text).await?)
}

#[tauri::command]
pub async fn edit_comment(shell: State<'_, Shell>, comment_id: i64, text: String) -> CommandResult<()> {
    shell.social().await?.edit_comment(comment_id, &text).await?;
    Ok(())
}

#[tauri::command]
pub async fn delete_comment(shell: State<'_, Shell>, comment_id: i64) -> CommandResult<()> {
    Ok(shell.social().await?.delete_comment(comment_id).await?)
}

#[tauri::command]
pub async fn join(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<String> {
    crate::reminders::queue_then_look(&shell, |social| async move { social.join(id).await }).await
}

#[tauri::command]
pub async fn leave(shell: State<'_, Shell>, id: MeetupId) -> CommandResult<String> {
    Ok(shell.social().await?.leave(id).await?)
}

#[tauri::command]
pub async fn send_message(shell: State<'_, Shell>, id: MeetupId, text: String) -> CommandResult<String> {
    Ok(shell.social().await?.send_message(id, &text).await?)
}

#[tauri::command]
pub async fn set_notice(shell: State<'_, Shell>, id: MeetupId, text: Option<String>) -> CommandResult<()> {
    Ok(shell.social().await?.set_notice(id, text.as_deref()).await?)
}

#[tauri::command]
pub async fn search_places(shell: State<'_, Shell>, q: String) -> CommandResult<Vec<Place>> {
    Ok(shell.social().await?.search_places(&q).await?)
}

/// Uploads an image given as its bytes or as a path on this device.
#[tauri::command]
pub async fn upload_image(
    shell: State<'_, Shell>,
    bytes: Option<Vec<u8>>,
    path: Option<String>,
    content_type: String,
) -> CommandResult<Uploaded> {
    let bytes = match (bytes, path) {
        (Some(bytes), _) => bytes,
        (None, Some(path)) => tokio::fs::read(&path)
            .await
            .map_err(|e| AppError::new("invalid_input", format!("cannot read {path}: {e}")))?,
        (None, None) => return Err(AppError::new("invalid_input", "an image needs bytes or a path")),
    };
    Ok(shell.social().await?.upload_image(&bytes, &content_type).await?)
}

#[tauri::command]
pub async fn dismiss(shell: State<'_, Shell>, key: String) -> CommandResult<()> {
    Ok(shell.social().await?.dismiss(&key).await?)
}

/// The Leaflet tile URL template (`MINGIZUK_TILE_URL`).
#[tauri::command]
pub async fn tile_url(shell: State<'_, Shell>) -> CommandResult<String> {
    Ok(shell.config.tile_url.clone())
}
