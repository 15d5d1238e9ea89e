//! The HTTP skeleton seen from a client: health, the OpenAPI document, the error format of unknown
//! routes and unreadable bodies, the middleware headers, and a real listener that shuts down
//! gracefully. Requests go through `tower::ServiceExt::oneshot` except where a socket is the point.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::routing::post;
use mingizuk_server::http::routes;
use mingizuk_server::storage::{self, Storage};
use mingizuk_server::{AppState, Config, Json, app, server};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// A server state on a fresh SQLite file, with the configuration the environment map gives.
async fn state_with(env: &[(&str, &str)]) -> (AppState, Arc<dyn Storage>, TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.insert("MINGIZUK_DATA_DIR".into(), dir.path().display().to_string());
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    (AppState::new(config, Arc::clone(&storage)), storage, dir)
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    (parts.status, parts.headers, json)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only `error` at the top: {body}");
}

#[tokio::test]
async fn healthz_is_ok_while_the_database_answers() {
    let (state, _storage, _dir) = state_with(&[]).await;
    let (status, headers, body) = send(app(state), get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
    assert!(headers.contains_key("x-request-id"), "every response carries its request id");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY), "no HSTS without an https public URL");
}

#[tokio::test]
async fn healthz_is_503_in_the_error_format_when_the_database_is_gone() {
    let (state, storage, _dir) = state_with(&[]).await;
    storage.close().await;
    let (status, _, body) = send(app(state), get("/healthz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, "unavailable");
    assert!(!body.to_string().to_lowercase().contains("pool"), "the cause stays in the log: {body}");
}

#[tokio::test]
async fn openapi_is_a_3_1_document_of_routes_that_exist() {
    let (state, _storage, _dir) = state_with(&[("MINGIZUK_PUBLIC_URL", "https://sync.example")]).await;
    let (status, headers, doc) = send(app(state.clone()), get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "https://sync.example");
    assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/healthz") && paths.contains_key("/openapi.json"));
    for (path, operations) in paths {
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            // Path parameters get a real value; a route may still answer 404 with its own code
            // (`provider_not_configured`), but never the router's `not_found`.
            let uri = path.replace("{provider}", "google");
            let request = Request::builder().method(method.clone()).uri(&uri).body(Body::empty()).expect("request");
            let (status, _, body) = send(app(state.clone()), request).await;
            let unrouted = status == StatusCode::NOT_FOUND && body["error"]["code"] == "not_found";
            assert!(!unrouted, "{method} {path} is documented but not routed");
        }
    }
}

#[tokio::test]
async fn an_unknown_route_is_not_found_and_a_wrong_method_not_allowed() {
    let (state, _storage, _dir) = state_with(&[]).await;
    let (status, headers, body) = send(app(state.clone()), get("/v1/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    assert!(headers.contains_key("x-request-id"));
    let delete = Request::delete("/healthz").body(Body::empty()).expect("request");
    let (status, _, body) = send(app(state), delete).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&body, "method_not_allowed");
}

#[tokio::test]
async fn a_client_request_id_is_kept() {
    let (state, _storage, _dir) = state_with(&[]).await;
    let request =
        Request::get("/healthz").header("x-request-id", "device-42-req-7").body(Body::empty()).expect("request");
    let (_, headers, _) = send(app(state), request).await;
    assert_eq!(headers["x-request-id"], "device-42-req-7");
}

/// A probe route that exists only in these tests, mounted through the same middleware.
#[derive(Debug, Serialize, Deserialize)]
struct Probe {
    name: String,
}

async fn echo(Json(probe): Json<Probe>) -> Json<Probe> {
    Json(probe)
}

fn with_probe(state: AppState) -> Router {
    routes(Router::new().route("/test/echo", post(echo)), state)
}

fn post_json(body: &str) -> Request<Body> {
    Request::post("/test/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

#[tokio::test]
async fn unreadable_bodies_are_answered_in_the_error_format() {
    let (state, _storage, _dir) = state_with(&[("MINGIZUK_MAX_BODY_BYTES", "64")]).await;
    let (status, _, body) = send(with_probe(state.clone()), post_json(r#"{"name":"ok"}"#)).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!({ "name": "ok" })));

    let (status, _, body) = send(with_probe(state.clone()), post_json(r#"{"name": "#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_json");

    let (status, _, body) = send(with_probe(state.clone()), post_json(r#"{"title":"wrong field"}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_body");

    let no_type = Request::post("/test/echo").body(Body::from(r#"{"name":"ok"}"#)).expect("request");
    let (status, _, body) = send(with_probe(state.clone()), no_type).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");

    let long = format!(r#"{{"name":"{}"}}"#, "x".repeat(100));
    let (status, _, body) = send(with_probe(state), post_json(&long)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "payload_too_large");
}

#[tokio::test]
async fn a_real_listener_serves_health_and_shuts_down_gracefully() {
    let (state, _storage, _dir) = state_with(&[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");

    stop.send(()).expect("server still running");
    let served = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "the server stops cleanly: {served:?}");
}

#[tokio::test]
async fn browsers_may_call_the_api_only_from_allowed_origins() {
    let (state, _storage, _dir) = state_with(&[("MINGIZUK_ALLOWED_ORIGINS", "https://app.mingizuk.example")]).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/auth/login")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .expect("request")
    };
    let (_, headers, _) = send(app(state.clone()), preflight("https://app.mingizuk.example")).await;
    assert_eq!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|v| v.to_str().ok()),
        Some("https://app.mingizuk.example")
    );
    let (_, headers, _) = send(app(state), preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "a foreign origin gets no CORS grant");
}
