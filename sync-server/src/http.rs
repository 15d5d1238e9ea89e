//! The HTTP surface: `app` builds the router with its middleware (request ids, tracing, security
//! headers, body limit, panic catching) and mounts the routes. Handlers only parse, call one
//! function and map the result; the work lives in storage and, later, the auth and sync modules.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{self, Auth, TokenKeys};
use crate::config::Config;
use crate::error::{ApiError, Json};
use crate::storage::Storage;
use crate::{idempotency, openapi};

/// How long `/healthz` waits for the database before calling it down.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub auth: Arc<Auth>,
    pub sync: Arc<crate::sync::Sync>,
    pub chat: Arc<crate::chat::Chat>,
    /// Place search's geocoder client and cache.
    pub places: Arc<crate::places::PlaceSearch>,
}

impl AppState {
    /// Access tokens are signed with the configured `jwt_secret`. Without one, a random key is made
    /// for this process: fine for one local server (clients refresh after a restart), wrong for
    /// several instances, which is why `main` refuses MySQL without a secret.
    pub fn new(config: Config, storage: Arc<dyn Storage>) -> Self {
        let keys = match &config.jwt_secret {
            Some(secret) => TokenKeys::from_secret(secret.expose().as_bytes()),
            None => {
                tracing::warn!("no jwt_secret configured: access tokens are signed with a per-process key");
                TokenKeys::ephemeral()
            }
        };
        let sync = crate::sync::Sync::new(storage.clone(), crate::sync::Limits::default(), config.redis.as_ref())
            .expect("the configuration checked the Redis URL");
        let sync = Arc::new(sync);
        let chat = crate::chat::Chat::new(storage.clone(), crate::chat::Limits::default(), config.redis.as_ref())
            .expect("the configuration checked the Redis URL");
        let chat = Arc::new(chat);
        let places = Arc::new(crate::places::PlaceSearch::new(config.geocoder.clone()));
        Self { config: Arc::new(config), storage, auth: Arc::new(Auth::new(keys)), sync, chat, places }
    }
}

/// The whole HTTP application, ready for `axum::serve` or `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    routes(Router::new(), state)
}

/// Mounts the API's routes and middleware on `extra`, so tests can add a probe route that goes
/// through the same layers; production calls [`app`].
pub fn routes(extra: Router<AppState>, state: AppState) -> Router {
    let strict_transport = state.config.public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            strict_transport.then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains")),
        ));
    let max_body_bytes = state.config.max_body_bytes;
    let max_image_bytes = state.config.media.max_bytes;
    let cors = cors(&state.config.allowed_origins);
    extra
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_document))
        .merge(auth::router())
        .merge(crate::sync::router())
        .merge(crate::meetups::router())
        .merge(crate::chat::router())
        .merge(crate::media::router(max_image_bytes))
        .merge(crate::places::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Every write route, whoever adds it, replays the first response to an Idempotency-Key.
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::idempotent_writes))
        // Extractors refuse longer bodies; our `Json` turns that into `payload_too_large`.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panicked))
                .layer(cors)
                .layer(security_headers),
        )
        .with_state(state)
}

/// Browsers may call the API only from the configured origins (none by default: the apps are
/// native and send no `Origin`). Credentials travel in the `Authorization` header, never in
/// cookies, so none are allowed.
fn cors(allowed: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = allowed.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, idempotency::IDEMPOTENCY_KEY])
        .expose_headers([REQUEST_ID, idempotency::IDEMPOTENT_REPLAYED])
        .max_age(Duration::from_secs(600))
}

/// The span every request's logs belong to. The path only: query strings may carry one-time tickets.
fn request_span(request: &Request) -> tracing::Span {
    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
}

fn panicked(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.storage.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ok" }))),
        Ok(Err(e)) => Err(ApiError::unavailable(e)),
        Err(_elapsed) => Err(ApiError::unavailable("the database did not answer in time")),
    }
}

async fn openapi_document(State(state): State<AppState>) -> Json<Value> {
    Json(openapi::document(&state.config))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
