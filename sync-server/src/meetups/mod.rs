//! Meetups over HTTP (PRODUCT.md §6, DESIGN.md "HTTP API"): the list by newest or most liked with a
//! region filter and cursor pages, the detail, edit and delete by the host, likes, comments, "my
//! meetups" and "my comments". `rules` checks what a client sends and derives the region, `views`
//! shapes the answers and the opaque cursors, `routes` holds the thin handlers. Joining, leaving,
//! the notice and the chat history are the chat module's; storage keeps the data consistent.

mod routes;
mod rules;
mod views;

pub use routes::router;

use crate::error::{ApiError, to_completion};
use crate::http::AppState;
use crate::media::MediaFolder;
use crate::storage::UserId;
use crate::storage::chat::MeetupId;
use crate::storage::meetups::{DeletedMeetup, Removal};

/// Deletes a meetup as its host does: everything in it goes in one transaction, then its image
/// (row and file) unless another meetup shows it too, and its chat room, whose members are told.
/// `NotHost` changes nothing.
///
/// It runs in a task of its own, as keyed writes do (`idempotency.rs`): a client that hangs up
/// after the commit must not leave the room open, its members unaware, or the image stored.
pub async fn delete(state: &AppState, id: MeetupId, by: UserId) -> Result<Removal, ApiError> {
    let state = state.clone();
    to_completion("deleting a meetup", async move { delete_now(&state, id, by).await }).await
}

async fn delete_now(state: &AppState, id: MeetupId, by: UserId) -> Result<Removal, ApiError> {
    let removal = state.storage.delete_meetup(id, by).await?;
    if let Removal::Deleted { image_id } = removal {
        deleted(state, DeletedMeetup { id, image_id }).await;
    }
    Ok(removal)
}

/// What follows a meetup's deletion once it is committed (by its host, or with its host's
/// account): its image goes (row and file) unless another meetup shows it too, and its room
/// closes, its members told.
pub async fn deleted(state: &AppState, meetup: DeletedMeetup) {
    if let Some(image) = meetup.image_id {
        // A failure here leaves an image no meetup shows: the daily purge removes it.
        if let Err(e) = MediaFolder::new(&state.config.media).delete(&*state.storage, image).await {
            tracing::warn!(meetup = meetup.id, %image, error = %e, "the deleted meetup's image stays until the purge");
        }
    }
    state.chat.rooms.close(meetup.id).await;
    tracing::info!(meetup = meetup.id, "meetup deleted");
}
