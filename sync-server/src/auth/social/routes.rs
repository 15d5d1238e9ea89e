//! The social sign-in routes: `GET /v1/auth/{provider}/start`, `GET /v1/auth/{provider}/callback`
//! and `POST /v1/auth/exchange`. Handlers parse, call one `Auth` flow and answer with a redirect or
//! the session every sign-in returns. An unknown provider name is an unknown path (404 not_found).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oauth2::url::Url;
use serde::Deserialize;

use super::super::AuthError;
use super::super::routes::SessionView;
use super::flow::{Callback, SocialStart};
use crate::client_ip::ClientIp;
use crate::config::Provider;
use crate::error::{ApiError, Json};
use crate::http::AppState;

/// The social sign-in routes, merged into `auth::router`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/{provider}/start", get(start))
        .route("/v1/auth/{provider}/callback", get(callback))
        .route("/v1/auth/exchange", post(exchange))
}

#[derive(Deserialize)]
struct StartQuery {
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ExchangeBody {
    code: String,
    code_verifier: String,
}

fn provider(name: &str) -> Result<Provider, ApiError> {
    Provider::parse(name).ok_or(ApiError::NotFound)
}

/// A 302 to `url`. Query strings never reach the request log (see `http::request_span`).
fn found(url: &Url) -> Response {
    (axum::http::StatusCode::FOUND, [(header::LOCATION, url.as_str())]).into_response()
}

/// Query parameters that do not parse are a validation error in the API's format.
fn query<T>(parsed: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    parsed.map(|Query(q)| q).map_err(|e| ApiError::Validation(e.body_text()))
}

async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ClientIp(client): ClientIp,
    parsed: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let provider = provider(&name)?;
    let q = query(parsed)?;
    if q.code_challenge_method.as_deref().is_some_and(|m| m != "S256") {
        return Err(AuthError::InvalidCodeChallenge.into());
    }
    let url = state
        .auth
        .start_social_login(
            &*state.storage,
            &state.config,
            provider,
            SocialStart {
                app_redirect_uri: q.redirect_uri.as_deref().unwrap_or_default(),
                code_challenge: q.code_challenge.as_deref().unwrap_or_default(),
                client,
            },
        )
        .await?;
    Ok(found(&url))
}

async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    parsed: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let provider = provider(&name)?;
    let q = query(parsed)?;
    let callback = Callback { code: q.code, state: q.state, error: q.error };
    let url = state.auth.finish_social_login(&*state.storage, &state.config, provider, callback).await?;
    Ok(found(&url))
}

async fn exchange(
    State(state): State<AppState>,
    Json(body): Json<ExchangeBody>,
) -> Result<Json<SessionView>, ApiError> {
    let session = state.auth.exchange_app_code(&*state.storage, &body.code, &body.code_verifier).await?;
    Ok(Json(SessionView::of(&*state.storage, session).await))
}
