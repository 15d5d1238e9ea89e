//! `GET /v1/places?q=`: a signed-in user's place search.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use mingizuk_core::limits::PLACE_QUERY_MAX_CHARS;
use serde::Deserialize;

use super::Place;
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/places", get(search))
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    query: Result<Query<Search>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Place>>, ApiError> {
    // An access token outlives its account's deletion by minutes; the account must still be live.
    state.auth.current_user(&*state.storage, user).await?;
    let Query(Search { q }) = query.map_err(|e| ApiError::Validation(e.body_text()))?;
    let chars = q.trim().chars().count();
    if chars == 0 || chars > PLACE_QUERY_MAX_CHARS {
        return Err(ApiError::Validation(format!("q must be 1 to {PLACE_QUERY_MAX_CHARS} characters")));
    }
    match state.places.search(&q).await {
        Ok(places) => Ok(Json(places)),
        Err(e) => {
            tracing::warn!(error = %e, "place search failed");
            Err(ApiError::Rule {
                status: StatusCode::BAD_GATEWAY,
                code: "geocoder_unavailable",
                message: "place search is unavailable right now; try again later".into(),
            })
        }
    }
}
