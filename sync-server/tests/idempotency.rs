//! Idempotent writes seen from the app's outbox: a write retried with its Idempotency-Key gets the
//! first answer again and runs once; the same key for another request, a retry while the first is
//! still running, a malformed key and a server error each get their own treatment; keys are per
//! account; two server instances on one database agree on all of it. Probe routes go through the
//! same middleware as the real ones.

#[macro_use]
mod common;
mod signed_in;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::routing::post;
use mingizuk_server::http::routes;
use mingizuk_server::{AppState, Json, app};
use serde_json::{Value, json};
use signed_in::{code, request, send, server};
use tokio::sync::Notify;

conformance!(a_retry_at_another_instance_while_the_first_request_runs_is_told_it_is_in_progress);

const REPLAYED: &str = "idempotent-replayed";

/// Probe routes: `/probe/count` counts its runs; `/probe/flaky` fails with 500 on its first run;
/// `/probe/slow` tells `started` it runs, then waits for `release` (on its first run only: a second
/// run answers at once, so a test that sees it fails rather than hangs).
#[derive(Clone, Default)]
struct Probes {
    runs: Arc<AtomicUsize>,
    started: Arc<Notify>,
    release: Arc<Notify>,
}

impl Probes {
    fn app(&self, state: AppState) -> Router {
        let (count, flaky, slow) = (self.clone(), self.clone(), self.clone());
        let extra = Router::new()
            .route(
                "/probe/count",
                post(move || async move {
                    let runs = count.runs.fetch_add(1, Ordering::SeqCst) + 1;
                    (StatusCode::CREATED, Json(json!({ "runs": runs })))
                }),
            )
            .route(
                "/probe/flaky",
                post(move || async move {
                    match flaky.runs.fetch_add(1, Ordering::SeqCst) {
                        0 => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": { "code": "internal" } }))),
                        _ => (StatusCode::OK, Json(json!({ "ok": true }))),
                    }
                }),
            )
            .route(
                "/probe/slow",
                post(move || async move {
                    if slow.runs.fetch_add(1, Ordering::SeqCst) > 0 {
                        return Json(json!({ "slow": "ran again" }));
                    }
                    slow.started.notify_one();
                    slow.release.notified().await;
                    Json(json!({ "slow": "done" }))
                }),
            );
        routes(extra, state)
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn keyed(method: Method, uri: &str, token: &str, key: &str, body: Value) -> axum::http::Request<Body> {
    let headers = [("idempotency-key", key), ("content-type", "application/json")];
    request(method, uri, Some(token), &headers, Body::from(body.to_string()))
}

#[tokio::test]
async fn a_retried_write_gets_its_first_answer_again_and_runs_once() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let (status, headers, first) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/count", &token, "outbox-1", json!({})))
            .await;
    assert_eq!((status, first.clone()), (StatusCode::CREATED, json!({ "runs": 1 })));
    assert!(!headers.contains_key(REPLAYED));
    for _ in 0..3 {
        let (status, headers, again) =
            send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/count", &token, "outbox-1", json!({})))
                .await;
        assert_eq!((status, &again), (StatusCode::CREATED, &first));
        assert_eq!(headers[REPLAYED], "true");
        assert_eq!(headers["content-type"], "application/json");
    }
    assert_eq!(probes.runs(), 1, "the write ran once");

    let (_, _, fresh) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/count", &token, "outbox-2", json!({})))
            .await;
    assert_eq!(fresh, json!({ "runs": 2 }), "a new key is a new write");
}

#[tokio::test]
async fn a_retried_profile_change_is_replayed_and_its_key_cannot_carry_another_change() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let change = |nickname: &str| keyed(Method::PATCH, "/v1/me", &token, "rename-1", json!({ "nickname": nickname }));
    let (status, _, first) = send(app(server.state.clone()), change("새민지")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["nickname"], "새민지");
    let (status, headers, again) = send(app(server.state.clone()), change("새민지")).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(headers[REPLAYED], "true");

    let (status, _, body) = send(app(server.state.clone()), change("딴이름")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "idempotency_key_reused");
    let other_path = keyed(Method::POST, "/v1/media", &token, "rename-1", json!({ "nickname": "새민지" }));
    let (status, _, body) = send(app(server.state.clone()), other_path).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_told_it_is_in_progress() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let first = tokio::spawn(send(
        probes.app(server.state.clone()),
        keyed(Method::POST, "/probe/slow", &token, "slow-1", json!({})),
    ));
    probes.started.notified().await;
    let (status, _, body) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/slow", &token, "slow-1", json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "idempotency_key_in_progress");

    probes.release.notify_one();
    let (status, _, body) = first.await.expect("first request");
    assert_eq!((status, body), (StatusCode::OK, json!({ "slow": "done" })));
    let (status, headers, _) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/slow", &token, "slow-1", json!({}))).await;
    assert_eq!((status, &headers[REPLAYED]), (StatusCode::OK, &"true".parse().expect("header")));
}

#[tokio::test]
async fn a_write_whose_client_hung_up_still_finishes_and_its_retry_is_replayed() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let attempt = || keyed(Method::POST, "/probe/slow", &token, "gone-1", json!({}));
    let first = tokio::spawn(send(probes.app(server.state.clone()), attempt()));
    probes.started.notified().await;
    // The client goes away while the write runs (the server drops the request's future).
    first.abort();
    let _ = first.await;
    probes.release.notify_one();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, headers, body) = send(probes.app(server.state.clone()), attempt()).await;
        if status == StatusCode::CONFLICT && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        }
        assert_eq!((status, body), (StatusCode::OK, json!({ "slow": "done" })));
        assert_eq!(headers.get(REPLAYED).map(|v| v.as_bytes()), Some(&b"true"[..]), "the first run's answer");
        break;
    }
}

#[tokio::test]
async fn a_body_that_breaks_off_is_a_bad_request_not_too_large_and_runs_nothing() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let parts = [Ok(axum::body::Bytes::from_static(b"{\"half\":")), Err(std::io::Error::other("the client went away"))];
    let body = Body::from_stream(futures_util::stream::iter(parts));
    let headers = [("idempotency-key", "broken-1"), ("content-type", "application/json")];
    let (status, _, body) =
        send(probes.app(server.state.clone()), request(Method::POST, "/probe/count", Some(&token), &headers, body))
            .await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"), "{body}");
    assert_eq!(probes.runs(), 0);
    let retry = keyed(Method::POST, "/probe/count", &token, "broken-1", json!({}));
    let (status, _, body) = send(probes.app(server.state.clone()), retry).await;
    assert_eq!((status, body), (StatusCode::CREATED, json!({ "runs": 1 })), "the key was not taken");
}

#[tokio::test]
async fn a_server_error_is_not_kept_so_the_retry_runs_again() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let retry = || keyed(Method::POST, "/probe/flaky", &token, "flaky-1", json!({}));
    let (status, _, _) = send(probes.app(server.state.clone()), retry()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, headers, body) = send(probes.app(server.state.clone()), retry()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "ok": true })));
    assert!(!headers.contains_key(REPLAYED));
    let (_, headers, _) = send(probes.app(server.state.clone()), retry()).await;
    assert_eq!(headers[REPLAYED], "true", "the success is kept");
    assert_eq!(probes.runs(), 2);
}

#[tokio::test]
async fn keys_belong_to_one_account() {
    let server = server(&[]).await;
    let (_, minji) = server.sign_in("민지").await;
    let (_, junho) = server.sign_in("준호").await;
    let probes = Probes::default();
    let (_, _, first) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/count", &minji, "same", json!({}))).await;
    let (_, headers, second) =
        send(probes.app(server.state.clone()), keyed(Method::POST, "/probe/count", &junho, "same", json!({}))).await;
    assert_eq!((first, second), (json!({ "runs": 1 }), json!({ "runs": 2 })));
    assert!(!headers.contains_key(REPLAYED));
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_writes_without_a_key_run_every_time() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let probes = Probes::default();
    let too_long = "k".repeat(256);
    for key in ["has space", "한글키", too_long.as_str()] {
        let request = keyed(Method::POST, "/probe/count", &token, key, json!({}));
        let (status, _, body) = send(probes.app(server.state.clone()), request).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "validation_failed"), "{key}");
    }
    assert_eq!(probes.runs(), 0);
    for expected in 1..=2 {
        let request = request(Method::POST, "/probe/count", Some(&token), &[], Body::empty());
        let (_, headers, body) = send(probes.app(server.state.clone()), request).await;
        assert_eq!(body, json!({ "runs": expected }));
        assert!(!headers.contains_key(REPLAYED));
    }
}

#[tokio::test]
async fn the_openapi_document_offers_the_key_on_signed_in_writes() {
    let server = server(&[]).await;
    let (_, _, doc) =
        send(app(server.state.clone()), request(Method::GET, "/openapi.json", None, &[], Body::empty())).await;
    let reference = json!({ "$ref": "#/components/parameters/IdempotencyKey" });
    for (path, method) in [("/v1/me", "patch"), ("/v1/me", "delete"), ("/v1/media", "post")] {
        let parameters = doc["paths"][path][method]["parameters"].as_array().expect("parameters");
        assert!(parameters.contains(&reference), "{method} {path}");
    }
    assert_eq!(doc["components"]["parameters"]["IdempotencyKey"]["in"], "header");
    assert!(doc["paths"]["/v1/auth/login"]["post"]["parameters"].is_null(), "not on sign-in");
    let ticket = doc["paths"]["/v1/ws-ticket"]["post"]["parameters"].as_array().cloned().unwrap_or_default();
    assert!(!ticket.contains(&reference), "not on a WebSocket ticket, a credential");
}

#[tokio::test]
async fn a_keyed_request_for_a_websocket_ticket_gets_a_fresh_ticket_never_a_spent_one() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let mut tickets = Vec::new();
    for _ in 0..2 {
        let (status, headers, body) =
            send(app(server.state.clone()), keyed(Method::POST, "/v1/ws-ticket", &token, "ticket-1", json!({}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(!headers.contains_key(REPLAYED));
        tickets.push(body["ticket"].as_str().expect("a ticket").to_owned());
    }
    assert_ne!(tickets[0], tickets[1], "each request gets a ticket of its own");
}

#[tokio::test]
async fn a_meetup_whose_answer_cannot_be_read_is_not_created_so_the_outbox_retry_creates_it_once() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let body = json!({
        "title": "한강 러닝",
        "contents": "토요일 아침 5km",
        "starts_at": "2030-05-01T09:00:00Z",
        "ends_at": "2030-05-01T11:00:00Z",
        "location": { "place_name": "여의나루역", "address": "서울특별시 영등포구 여의동로 343",
                      "lat": 37.5271, "lng": 126.9326 }
    });
    let create = || keyed(Method::POST, "/v1/meetups", &token, "outbox-meetup-1", body.clone());
    let database = sqlx::SqlitePool::connect(server.state.config.database_url.expose()).await.expect("open");
    let meetups = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM meetups").fetch_one(&database).await };

    // The created meetup's read-back fails (its comment count reads a table that has gone away).
    sqlx::query("ALTER TABLE comments RENAME TO comments_away").execute(&database).await.expect("rename");
    let (status, _, answer) = send(app(server.state.clone()), create()).await;
    assert_eq!((status, code(&answer)), (StatusCode::INTERNAL_SERVER_ERROR, "internal"), "{answer}");
    assert_eq!(meetups().await.expect("count"), 0, "a failed answer must leave nothing behind");

    sqlx::query("ALTER TABLE comments_away RENAME TO comments").execute(&database).await.expect("rename back");
    let (status, _, created) = send(app(server.state.clone()), create()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!((created["title"].as_str(), created["members"].as_array().map(Vec::len)), (Some("한강 러닝"), Some(1)));
    let (status, headers, again) = send(app(server.state.clone()), create()).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &created));
    assert_eq!(headers[REPLAYED], "true");
    assert_eq!(meetups().await.expect("count"), 1, "the outbox's retries created one meetup");
}

/// An instance of the server over the test's database, opened anew as another process would.
async fn instance(db: &common::TestDb, dir: &tempfile::TempDir) -> AppState {
    let env: std::collections::HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), "test-secret-of-at-least-32-bytes-for-hs256".to_owned()),
    ]
    .into();
    let config = mingizuk_server::Config::from_sources(None, &env).expect("configuration");
    let storage = mingizuk_server::storage::open(db.url()).await.expect("open the database again");
    AppState::new(config, storage)
}

async fn a_retry_at_another_instance_while_the_first_request_runs_is_told_it_is_in_progress(db: common::TestDb) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (first_instance, second_instance) = (instance(&db, &dir).await, instance(&db, &dir).await);
    let minji = common::person(db.storage(), "민지").await;
    let (token, _) = first_instance.auth.keys.issue_access(minji.id, chrono::Utc::now()).expect("token");
    let probes = Probes::default();
    let attempt = |body: Value| keyed(Method::POST, "/probe/slow", &token, "slow-1", body);

    let first = tokio::spawn(send(probes.app(first_instance.clone()), attempt(json!({}))));
    probes.started.notified().await;
    let (status, _, body) = send(probes.app(second_instance.clone()), attempt(json!({}))).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "idempotency_key_in_progress"), "{body}");
    let (status, _, body) = send(probes.app(second_instance.clone()), attempt(json!({ "other": 1 }))).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"), "{body}");

    probes.release.notify_one();
    let (status, _, body) = first.await.expect("first request");
    assert_eq!((status, body), (StatusCode::OK, json!({ "slow": "done" })));
    let (status, headers, body) = send(probes.app(second_instance.clone()), attempt(json!({}))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "slow": "done" })));
    assert_eq!(headers[REPLAYED], "true");
    assert_eq!(probes.runs(), 1, "the write ran once across both instances");
    for state in [first_instance, second_instance] {
        state.storage.close().await;
    }
}
