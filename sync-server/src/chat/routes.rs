//! The HTTP routes that change a meetup's room or read it: join and leave (their system messages
//! are published live), the history pages, and the notice. Every change goes through [`Rooms`], so
//! it is published only once stored, in the room's order.
//!
//! Leaving a meetup one is not a member of is `409 not_member` rather than 404: the meetup exists
//! (404 stays "no such meetup"), and the request conflicts with the current state, as a second
//! join does (`409 already_member`).

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use chrono::Utc;
use mingizuk_core::limits::{CHAT_HISTORY_PAGE, CHAT_TEXT_MAX_CHARS};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frames::{MessageView, checked_text};
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use crate::http::AppState;
use crate::storage::UserId;
use crate::storage::chat::{MeetupId, RoomAccess, Sender};
use crate::storage::meetups::{Join, Leave};

/// The most messages one history page holds.
pub const HISTORY_PAGE_MAX: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/meetups/{id}/members", post(join))
        .route("/v1/meetups/{id}/members/me", axum::routing::delete(leave))
        .route("/v1/meetups/{id}/messages", get(history))
        .route("/v1/meetups/{id}/notice", put(set_notice).delete(delete_notice))
}

/// A meetup id from the path; one that is not a number names no meetup.
fn meetup_id(path: Result<Path<MeetupId>, PathRejection>) -> Result<MeetupId, ApiError> {
    path.map(|Path(id)| id).map_err(|_| ApiError::NotFound)
}

/// The signed-in user as the room shows them; an account deleted since its token was issued is
/// refused like a bad token (`401 invalid_token`, as on every route).
async fn sender(state: &AppState, user: UserId) -> Result<Sender, ApiError> {
    let account = state.auth.current_user(&*state.storage, user).await?;
    Ok(Sender { id: account.id, nickname: account.nickname })
}

/// The user's standing in the room: 401 if their account is in its deletion grace (the room's
/// member list hides them, which must not read as "not a member"), 404 if the meetup does not
/// exist, 403 unless a member.
async fn member_access(state: &AppState, meetup: MeetupId, user: UserId) -> Result<RoomAccess, ApiError> {
    sender(state, user).await?;
    let access = state.storage.room_access(meetup, user).await?.ok_or(ApiError::NotFound)?;
    if !access.member {
        return Err(forbidden("not_member", "only the meetup's members may read its room"));
    }
    Ok(access)
}

fn forbidden(code: &'static str, message: &str) -> ApiError {
    ApiError::Rule { status: StatusCode::FORBIDDEN, code, message: message.to_owned() }
}

async fn join(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    path: Result<Path<MeetupId>, PathRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let meetup = meetup_id(path)?;
    let user = sender(&state, user).await?;
    match state.chat.rooms.join(meetup, user).await? {
        Join::Joined(message) => Ok((StatusCode::CREATED, Json(json!(MessageView::from(&message))))),
        Join::AlreadyMember => Err(ApiError::conflict("already_member", "you are already a member of this meetup")),
        Join::Full => Err(ApiError::rule("meetup_full", "this meetup has as many members as it takes")),
        Join::Ended => Err(ApiError::rule("meetup_ended", "this meetup has ended")),
    }
}

async fn leave(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    path: Result<Path<MeetupId>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let meetup = meetup_id(path)?;
    let user = sender(&state, user).await?;
    match state.chat.rooms.leave(meetup, user).await? {
        Leave::Left(_) => Ok(StatusCode::NO_CONTENT),
        Leave::NotMember => Err(ApiError::conflict("not_member", "you are not a member of this meetup")),
        Leave::Host => Err(ApiError::rule("host_cannot_leave", "the host cannot leave their own meetup")),
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    before_seq: Option<i64>,
    limit: Option<u32>,
}

/// A page of the room's history, newest first; `next_before_seq` asks for the page before it.
async fn history(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    path: Result<Path<MeetupId>, PathRejection>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let meetup = meetup_id(path)?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::Validation("before_seq and limit must be whole numbers".into()));
    };
    let limit = query.limit.unwrap_or(CHAT_HISTORY_PAGE);
    if !(1..=HISTORY_PAGE_MAX).contains(&limit) {
        return Err(ApiError::Validation(format!("limit must be 1 to {HISTORY_PAGE_MAX}")));
    }
    member_access(&state, meetup, user).await?;
    let page = state.storage.messages_before(meetup, query.before_seq, limit).await?;
    let oldest = page.last().map(|m| m.seq).filter(|&seq| seq > 1 && page.len() == limit as usize);
    let messages: Vec<MessageView<'_>> = page.iter().map(MessageView::from).collect();
    Ok(Json(json!({ "messages": messages, "next_before_seq": oldest })))
}

#[derive(Deserialize)]
struct NoticeBody {
    text: String,
}

/// The room's host, while the meetup has not ended, may change its notice.
async fn host_access(state: &AppState, meetup: MeetupId, user: UserId) -> Result<(), ApiError> {
    let access = member_access(state, meetup, user).await?;
    if !access.host {
        return Err(forbidden("not_host", "only the meetup's host may change its notice"));
    }
    if access.ends_at <= Utc::now() {
        return Err(ApiError::rule("meetup_ended", "the meetup has ended: its room is read-only"));
    }
    Ok(())
}

async fn set_notice(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    path: Result<Path<MeetupId>, PathRejection>,
    Json(body): Json<NoticeBody>,
) -> Result<Json<Value>, ApiError> {
    let meetup = meetup_id(path)?;
    host_access(&state, meetup, user).await?;
    let Some(text) = checked_text(&body.text) else {
        let message = format!("a notice is 1 to {CHAT_TEXT_MAX_CHARS} characters");
        return Err(ApiError::Rule { status: StatusCode::BAD_REQUEST, code: "invalid_text", message });
    };
    let notice = state.chat.rooms.change_notice(meetup, Some(text.to_owned())).await?;
    Ok(Json(json!({ "notice": notice })))
}

async fn delete_notice(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    path: Result<Path<MeetupId>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let meetup = meetup_id(path)?;
    host_access(&state, meetup, user).await?;
    state.chat.rooms.change_notice(meetup, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
