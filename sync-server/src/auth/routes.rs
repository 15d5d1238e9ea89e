//! The account routes and the extractors protected routes use. Handlers parse, call one `Auth`
//! flow and shape the answer; `Authenticated` turns an `Authorization: Bearer` header into a user
//! id or a 401 (`unauthenticated`, `token_expired`, `invalid_token`).

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AuthError;
use super::accounts::{ProfileChange, Session, SignUp};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, Json};
use crate::http::AppState;
use crate::storage::{Storage, User, UserId};

/// The account routes, mounted by `http::routes`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/signup", post(sign_up))
        .route("/v1/auth/login", post(log_in))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(log_out))
        .merge(super::social::router())
        .route("/v1/me", get(me).patch(change_profile).delete(delete_account))
}

/// The user a valid access token speaks for.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub UserId);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthenticated);
        };
        Ok(Self(state.auth.keys.verify_access(bearer_token(value)?)?))
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(value: &axum::http::HeaderValue) -> Result<&str, AuthError> {
    let value = value.to_str().map_err(|_| AuthError::InvalidToken)?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::InvalidToken)
}

#[derive(Deserialize)]
struct SignUpBody {
    email: String,
    password: String,
    nickname: String,
}

#[derive(Deserialize)]
struct LogInBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    nickname: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
}

/// A user as clients see it: never the password hash.
#[derive(Serialize)]
pub struct UserView {
    id: String,
    email: String,
    nickname: String,
    /// How the account signs in: `local` (email and password), or its provider (`google`,
    /// `kakao`, `naver`).
    provider: String,
    created_at: DateTime<Utc>,
}

impl UserView {
    /// The view of `user`, whose provider is read from storage unless it has a password. That
    /// read is best effort: it follows writes that must not be answered with an error once done
    /// (a rotated refresh token, a spent one-time code), so a failure says `social`, logged.
    async fn of(storage: &dyn Storage, user: User) -> Self {
        let provider = match user.password_hash {
            Some(_) => "local".to_owned(),
            None => match storage.identity_provider(user.id).await {
                Ok(provider) => provider.unwrap_or_else(|| "social".to_owned()),
                Err(e) => {
                    tracing::warn!(user = %user.id, error = %e, "could not read the account's provider");
                    "social".to_owned()
                }
            },
        };
        Self {
            id: user.id.to_string(),
            email: user.email,
            nickname: user.nickname,
            provider,
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct SessionView {
    user: UserView,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
}

impl SessionView {
    pub async fn of(storage: &dyn Storage, session: Session) -> Self {
        Self {
            user: UserView::of(storage, session.user).await,
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            token_type: "Bearer",
            expires_in: session.expires_in,
        }
    }
}

async fn sign_up(
    State(state): State<AppState>,
    Json(body): Json<SignUpBody>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let form = SignUp { email: body.email, password: body.password, nickname: body.nickname };
    let session = state.auth.sign_up(&*state.storage, form).await?;
    Ok((StatusCode::CREATED, Json(SessionView::of(&*state.storage, session).await)))
}

async fn log_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LogInBody>,
) -> Result<Json<SessionView>, ApiError> {
    let session = state.auth.log_in(&*state.storage, ip, &body.email, body.password).await?;
    Ok(Json(SessionView::of(&*state.storage, session).await))
}

async fn refresh(State(state): State<AppState>, Json(body): Json<RefreshBody>) -> Result<Json<SessionView>, ApiError> {
    let session = state.auth.refresh(&*state.storage, &body.refresh_token).await?;
    Ok(Json(SessionView::of(&*state.storage, session).await))
}

async fn log_out(State(state): State<AppState>, Json(body): Json<RefreshBody>) -> Result<StatusCode, ApiError> {
    state.auth.log_out(&*state.storage, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user, with the root id their synced documents are named after (chosen on first
/// ask; only the account's own devices ever learn it).
#[derive(Serialize)]
struct MeView {
    #[serde(flatten)]
    user: UserView,
    account_root: uuid::Uuid,
}

async fn me(State(state): State<AppState>, Authenticated(id): Authenticated) -> Result<Json<MeView>, ApiError> {
    let user = UserView::of(&*state.storage, state.auth.current_user(&*state.storage, id).await?).await;
    let account_root = state.storage.account_root(id).await?;
    Ok(Json(MeView { user, account_root }))
}

async fn change_profile(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Authenticated(id): Authenticated,
    Json(body): Json<ProfileBody>,
) -> Result<Json<UserView>, ApiError> {
    let change =
        ProfileChange { nickname: body.nickname, password: body.password, current_password: body.current_password };
    let user = state.auth.change_profile(&*state.storage, ip, id, change).await?;
    Ok(Json(UserView::of(&*state.storage, user).await))
}

async fn delete_account(
    State(state): State<AppState>,
    Authenticated(id): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.auth.current_user(&*state.storage, id).await?;
    // A client that hangs up after the account's deletion committed must not leave its chat
    // connections open.
    crate::error::to_completion("deleting an account", async move {
        // The meetups the account hosts go at once, in the deletion's transaction (PRODUCT.md §2),
        // so none created meanwhile survives hidden; the rest waits for the purge.
        let hosted = state.auth.delete_account(&*state.storage, id).await?;
        state.chat.rooms.account_deleted(id);
        for meetup in hosted {
            crate::meetups::deleted(&state, meetup).await;
        }
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
