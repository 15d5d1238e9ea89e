//! Commands of meetups, comments, likes and chat (COMMANDS.md "Meetups"): each one call into the
//! social side, which needs an account (`signed_out` otherwise). Reads fall back to the cache
//! offline; writes go through the outbox and return its key.

use mingizuk_client::social::{ChatMessage, Listing, MeetupId, OutboxItem, Place, Role, Sort, Uploaded};
use std::borrow::Cow;

use serde_json::Value;
use tauri::State;
use tauri::ipc::{InvokeBody, Request};

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

/// The header that carries an uploaded image's media type (`image/png`, …): Tauri sets the
/// request's own `Content-Type` (`application/octet-stream` for raw bytes), so ours travels apart.
pub const IMAGE_TYPE_HEADER: &str = "x-mingizuk-content-type";

/// Uploads a meetup's image sent as the request's raw body, its media type in
/// [`IMAGE_TYPE_HEADER`] (`invoke('upload_image', bytes, { headers })`): as JSON, a 5 MB photo
/// was five million numbers built, serialised and parsed. The server checks type and size by
/// content. Only the bytes the web view sends: no path, so a script in the web view cannot make
/// the shell read (and upload) any file of the device.
///
/// Where Tauri cannot read a request body (Android, whose IPC goes through `postMessage`; a
/// desktop web view whose custom protocol is blocked falls back the same way) the `Uint8Array`
/// arrives as a JSON array of numbers: that is accepted too, at the old cost, so that the photo
/// still works there. Any other JSON (the `{bytes, contentType}` object of an older front end)
/// and a missing header are refused with `invalid_input`.
#[tauri::command]
pub async fn upload_image(shell: State<'_, Shell>, request: Request<'_>) -> CommandResult<Uploaded> {
    let (bytes, content_type) = image_upload(&request)?;
    Ok(shell.social().await?.upload_image(&bytes, content_type).await?)
}

/// The image's bytes and media type out of the request (see [`upload_image`]).
fn image_upload<'r>(request: &'r Request<'_>) -> CommandResult<(Cow<'r, [u8]>, &'r str)> {
    let content_type = request
        .headers()
        .get(IMAGE_TYPE_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            AppError::new("invalid_input", format!("an image needs its media type in {IMAGE_TYPE_HEADER}"))
        })?;
    let bytes = match request.body() {
        InvokeBody::Raw(bytes) => Cow::Borrowed(bytes.as_slice()),
        InvokeBody::Json(Value::Array(numbers)) => numbers
            .iter()
            .map(|n| n.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .map(Cow::Owned)
            .ok_or_else(|| AppError::new("invalid_input", "an image's bytes are numbers from 0 to 255"))?,
        InvokeBody::Json(_) => {
            return Err(AppError::new("invalid_input", "an image is sent as its raw bytes, not as JSON arguments"));
        }
    };
    Ok((bytes, content_type))
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
