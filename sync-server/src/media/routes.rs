//! `POST /v1/media` (the raw image bytes as the body, any Content-Type) and `GET /v1/media/{id}`.
//! Uploading needs a signed-in user; reading does not, since `<img>` tags cannot send a token and
//! ids are random UUIDs.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use uuid::Uuid;

use super::{MediaError, MediaFolder};
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use crate::http::AppState;

/// Images never change under their id, so caches may keep them for a year.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The media routes, mounted by `http::routes`. The upload route has its own body limit, above the
/// API's usual one.
pub fn router(max_image_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v1/media", post(upload).layer(DefaultBodyLimit::max(max_image_bytes)))
        .route("/v1/media/{id}", get(show))
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::UnsupportedImage => Self::Rule {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_image",
                message: e.to_string(),
            },
            MediaError::QuotaExceeded => Self::Rule {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "upload_quota_exceeded",
                message: "too many images uploaded today; try again tomorrow".into(),
            },
            MediaError::Storage(e) => e.into(),
            MediaError::Io(e) => Self::internal(e),
        }
    }
}

#[derive(Serialize)]
struct Uploaded {
    id: Uuid,
    url: String,
}

async fn upload(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let bytes = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::Validation(rejection.body_text()),
    })?;
    // An access token outlives its account's deletion by minutes; the account must still be live.
    state.auth.current_user(&*state.storage, user).await?;
    let record = MediaFolder::new(&state.config.media).upload(&*state.storage, user, bytes).await?;
    let base = state.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    let url = format!("{base}/v1/media/{}", record.id);
    Ok((StatusCode::CREATED, Json(Uploaded { id: record.id, url })))
}

/// An unknown or malformed image id: 404 with its own code, apart from the router's `not_found`.
fn no_such_image() -> ApiError {
    ApiError::Rule { status: StatusCode::NOT_FOUND, code: "image_not_found", message: "no such image".into() }
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| no_such_image())?;
    let folder = MediaFolder::new(&state.config.media);
    let (record, bytes) = folder.open(&*state.storage, id).await?.ok_or_else(no_such_image)?;
    let content_type = HeaderValue::from_str(&record.content_type).map_err(ApiError::internal)?;
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, IMMUTABLE),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    Ok((headers, bytes).into_response())
}
