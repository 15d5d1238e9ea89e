//! The meetup routes. Every route needs a live account (`SignedIn`): an access token of an account
//! in its deletion grace is refused like a missing one. Handlers parse, call storage and map the
//! outcome; the rules live in `rules`, the shapes in `views`.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, patch, put};
use chrono::Utc;
use mingizuk_core::limits::MEETUPS_PAGE_SIZE;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::rules::{self, CommentBody, MeetupBody, MeetupPatch, invalid};
use super::views::{self, CommentView, LikeView, MeetupView, Page};
use crate::auth::{AuthError, Authenticated};
use crate::error::{ApiError, Json};
use crate::http::AppState;
use crate::storage::meetups::{Authored, Edit, MeetupQuery, Removal, Role, Sort};
use crate::storage::{Storage, StorageError, User};

/// The meetup routes, mounted by `http::routes`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/meetups", get(list_meetups).post(create_meetup))
        .route("/v1/meetups/{id}", get(meetup).patch(edit_meetup).delete(delete_meetup))
        .route("/v1/meetups/{id}/like", put(like).delete(unlike))
        .route("/v1/meetups/{id}/comments", get(comments).post(add_comment))
        .route("/v1/comments/{id}", patch(edit_comment).delete(delete_comment))
        .route("/v1/me/meetups", get(my_meetups))
        .route("/v1/me/comments", get(my_comments))
}

/// The live account a valid access token speaks for.
struct SignedIn(User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Authenticated(id) = Authenticated::from_request_parts(parts, state).await?;
        Ok(Self(state.auth.current_user(&*state.storage, id).await?))
    }
}

/// The id in the path; one that is not a number names nothing (404).
struct Id(i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        Ok(Self(id))
    }
}

/// `axum::extract::Query`, except that a query it cannot read is a 400 `invalid_query`.
struct Query<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e: QueryRejection| invalid("invalid_query", e.body_text()))?;
        Ok(Self(value))
    }
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
enum SortParam {
    #[default]
    New,
    Likes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    sort: SortParam,
    region: Option<String>,
    cursor: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RoleParam {
    Host,
    Member,
    Liked,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MineParams {
    role: RoleParam,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorParams {
    cursor: Option<String>,
}

/// A page of meetups in `query`'s order.
async fn meetup_page(storage: &dyn Storage, mut query: MeetupQuery) -> Result<Page<MeetupView>, ApiError> {
    let (sort, limit, now) = (query.sort, query.limit, Utc::now());
    query.limit += 1;
    let meetups = storage.meetups(&query).await?;
    Ok(views::page(meetups, limit, |m| views::meetup_cursor(sort, m), |m| MeetupView::of(m, now)))
}

async fn list_meetups(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(params): Query<ListParams>,
) -> Result<Json<Page<MeetupView>>, ApiError> {
    let sort = match params.sort {
        SortParam::New => Sort::New,
        SortParam::Likes => Sort::Likes,
    };
    let after = params.cursor.as_deref().map(|c| views::parse_meetup_cursor(sort, c)).transpose()?;
    let region = params.region.as_deref().map(mingizuk_core::region::normalize_filter).filter(|r| !r.is_empty());
    let query = MeetupQuery { viewer: user.id, sort, region, role: None, after, limit: MEETUPS_PAGE_SIZE };
    Ok(Json(meetup_page(&*state.storage, query).await?))
}

async fn my_meetups(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(params): Query<MineParams>,
) -> Result<Json<Page<MeetupView>>, ApiError> {
    let role = match params.role {
        RoleParam::Host => Role::Host,
        RoleParam::Member => Role::Member,
        RoleParam::Liked => Role::Liked,
    };
    let after = params.cursor.as_deref().map(|c| views::parse_meetup_cursor(Sort::New, c)).transpose()?;
    let query = MeetupQuery {
        viewer: user.id,
        sort: Sort::New,
        region: None,
        role: Some(role),
        after,
        limit: MEETUPS_PAGE_SIZE,
    };
    Ok(Json(meetup_page(&*state.storage, query).await?))
}

/// The detail of a meetup as `user` sees it, or 404.
async fn detail(storage: &dyn Storage, id: i64, user: &User) -> Result<MeetupView, ApiError> {
    let detail = storage.meetup(id, user.id).await?.ok_or(ApiError::NotFound)?;
    Ok(MeetupView::detail(detail, Utc::now()))
}

/// Refuses an image that is not one the user uploaded.
async fn check_image(storage: &dyn Storage, image: Option<uuid::Uuid>, user: &User) -> Result<(), ApiError> {
    match image {
        Some(image) if !storage.image_of(image, user.id).await? => Err(ApiError::unknown_image()),
        _ => Ok(()),
    }
}

async fn create_meetup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(body): Json<MeetupBody>,
) -> Result<(StatusCode, Json<MeetupView>), ApiError> {
    let new = rules::new_meetup(user.id, body)?;
    check_image(&*state.storage, new.image_id, &user).await?;
    let created = state.storage.create_meetup(&new).await?;
    Ok((StatusCode::CREATED, Json(MeetupView::detail(created, Utc::now()))))
}

async fn meetup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
) -> Result<Json<MeetupView>, ApiError> {
    Ok(Json(detail(&*state.storage, id, &user).await?))
}

fn not_host() -> ApiError {
    ApiError::Rule { status: StatusCode::FORBIDDEN, code: "not_host", message: "only the host may do this".into() }
}

fn not_author() -> ApiError {
    let message = "only the comment's author may do this".into();
    ApiError::Rule { status: StatusCode::FORBIDDEN, code: "not_author", message }
}

async fn edit_meetup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
    Json(patch): Json<MeetupPatch>,
) -> Result<Json<MeetupView>, ApiError> {
    // The patch applies to the meetup as read; if another edit lands in between (the host's other
    // device), it is applied again to the newer meetup rather than undoing that edit.
    for _ in 0..EDIT_ATTEMPTS {
        let current = state.storage.meetup(id, user.id).await?.ok_or(ApiError::NotFound)?.meetup;
        if current.host.id != user.id {
            return Err(not_host());
        }
        let edit = rules::edited_meetup(user.id, &current, patch.clone())?;
        if edit.image_id != current.image_id {
            check_image(&*state.storage, edit.image_id, &user).await?;
        }
        match state.storage.update_meetup(id, &edit, current.updated_at).await? {
            Edit::Done => return Ok(Json(detail(&*state.storage, id, &user).await?)),
            Edit::NotHost => return Err(not_host()),
            Edit::LimitBelowMembers(members) => {
                let message = format!("the meetup already has {members} members; the limit cannot be lower");
                return Err(ApiError::rule("member_limit_below_members", message));
            }
            Edit::Stale => continue,
        }
    }
    Err(ApiError::conflict("meetup_changed", "the meetup kept changing while this edit was applied; try again"))
}

/// Tries of an edit that other edits keep overtaking.
const EDIT_ATTEMPTS: usize = 3;

async fn delete_meetup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    match super::delete(&state, id, user.id).await? {
        Removal::NotHost => Err(not_host()),
        Removal::Deleted { .. } => Ok(StatusCode::NO_CONTENT),
    }
}

async fn set_like(state: &AppState, user: &User, id: i64, like: bool) -> Result<Json<LikeView>, ApiError> {
    let like_count = state.storage.set_like(id, user.id, like).await.map_err(|e| match e {
        // The account's deletion committed since `SignedIn` read it live.
        StorageError::UnknownUser => AuthError::InvalidToken.into(),
        other => ApiError::from(other),
    })?;
    Ok(Json(LikeView { like_count, liked_by_me: like }))
}

async fn like(State(state): State<AppState>, SignedIn(user): SignedIn, Id(id): Id) -> Result<Json<LikeView>, ApiError> {
    set_like(&state, &user, id, true).await
}

async fn unlike(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
) -> Result<Json<LikeView>, ApiError> {
    set_like(&state, &user, id, false).await
}

async fn comments(
    State(state): State<AppState>,
    SignedIn(_user): SignedIn,
    Id(id): Id,
    Query(params): Query<CursorParams>,
) -> Result<Json<Page<CommentView>>, ApiError> {
    let after = params.cursor.as_deref().map(views::parse_comment_cursor).transpose()?;
    let comments = state.storage.comments(id, after, MEETUPS_PAGE_SIZE + 1).await?;
    Ok(Json(views::page(comments, MEETUPS_PAGE_SIZE, views::comment_cursor, CommentView::from)))
}

async fn add_comment(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
    Json(body): Json<CommentBody>,
) -> Result<(StatusCode, Json<CommentView>), ApiError> {
    let text = rules::comment_text(&body)?;
    let comment = state.storage.add_comment(id, user.id, text).await?;
    Ok((StatusCode::CREATED, Json(comment.into())))
}

fn authored<T>(outcome: Authored<T>) -> Result<T, ApiError> {
    match outcome {
        Authored::Done(value) => Ok(value),
        Authored::NotAuthor => Err(not_author()),
        Authored::Unknown => Err(ApiError::NotFound),
    }
}

async fn edit_comment(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
    Json(body): Json<CommentBody>,
) -> Result<Json<CommentView>, ApiError> {
    let text = rules::comment_text(&body)?;
    Ok(Json(authored(state.storage.edit_comment(id, user.id, text).await?)?.into()))
}

async fn delete_comment(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    authored(state.storage.delete_comment(id, user.id).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn my_comments(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(params): Query<CursorParams>,
) -> Result<Json<Page<CommentView>>, ApiError> {
    let before = params.cursor.as_deref().map(views::parse_comment_cursor).transpose()?;
    let comments = state.storage.comments_by(user.id, before, MEETUPS_PAGE_SIZE + 1).await?;
    Ok(Json(views::page(comments, MEETUPS_PAGE_SIZE, views::comment_cursor, CommentView::from)))
}
