//! Local accounts and tokens seen from a client, on SQLite through `oneshot`: sign-up rules, login,
//! refresh rotation and reuse detection, logout, every kind of bad access token, profile edits,
//! deletion with restore on sign-in, and login throttling. Password hashing runs at production
//! cost, so each test signs up as few accounts as it needs.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mingizuk_server::auth::{ACCOUNT_FAILURES_PER_HOUR, AUDIENCE, IP_FAILURES_PER_MINUTE, ISSUER};
use mingizuk_server::storage;
use mingizuk_server::{AppState, Config, app};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";
const PASSWORD: &str = "tiny daily squats";

struct Server {
    state: AppState,
    _dir: TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    Server { state: AppState::new(config, storage), _dir: dir }
}

/// One request as a client at `ip` would send it.
struct Call<'a> {
    method: Method,
    uri: &'a str,
    token: Option<&'a str>,
    body: Option<Value>,
    ip: [u8; 4],
}

fn call(method: Method, uri: &str) -> Call<'_> {
    Call { method, uri, token: None, body: None, ip: [192, 0, 2, 1] }
}

impl<'a> Call<'a> {
    fn bearer(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn sent_from(mut self, ip: [u8; 4]) -> Self {
        self.ip = ip;
        self
    }

    async fn send(self, server: &Server) -> (StatusCode, Value) {
        let mut request = Request::builder().method(self.method).uri(self.uri);
        if let Some(token) = self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match self.body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).expect("request");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((self.ip, 40_000))));
        let response = app(server.state.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        (status, json)
    }
}

fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
}

async fn sign_up(server: &Server, email: &str, nickname: &str) -> Value {
    let (status, body) = call(Method::POST, "/v1/auth/signup")
        .json(json!({ "email": email, "password": PASSWORD, "nickname": nickname }))
        .send(server)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn log_in(server: &Server, email: &str, password: &str) -> (StatusCode, Value) {
    call(Method::POST, "/v1/auth/login").json(json!({ "email": email, "password": password })).send(server).await
}

async fn refresh(server: &Server, refresh_token: &Value) -> (StatusCode, Value) {
    call(Method::POST, "/v1/auth/refresh").json(json!({ "refresh_token": refresh_token })).send(server).await
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

#[tokio::test]
async fn signing_up_returns_a_session_and_me_shows_the_normalised_account() {
    let server = server().await;
    let session = sign_up(&server, "  Ana.Kim@Example.COM ", " 아나 ").await;
    assert_eq!(session["user"]["email"], "ana.kim@example.com");
    assert_eq!(session["user"]["nickname"], "아나");
    assert_eq!(session["user"]["provider"], "local");
    assert_eq!((session["expires_in"].as_i64(), &session["token_type"]), (Some(3600), &json!("Bearer")));
    assert!(session["user"].get("password_hash").is_none());
    let (status, me) = call(Method::GET, "/v1/me").bearer(text(&session["access_token"])).send(&server).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // `/v1/me` is the user plus the root id their synced documents are named after, the same on
    // every call.
    let mut user = me.clone();
    let root = user.as_object_mut().and_then(|o| o.remove("account_root")).expect("an account root");
    assert_eq!(user, session["user"]);
    assert!(uuid::Uuid::parse_str(root.as_str().unwrap_or_default()).is_ok(), "{root}");
    let (_, again) = call(Method::GET, "/v1/me").bearer(text(&session["access_token"])).send(&server).await;
    assert_eq!(again["account_root"], root);
}

#[tokio::test]
async fn sign_up_refuses_each_broken_rule_with_its_own_code() {
    let server = server().await;
    let cases = [
        (json!({ "email": "not-an-email", "password": PASSWORD, "nickname": "ana" }), "invalid_email"),
        (
            json!({ "email": format!("{}@example.com", "a".repeat(250)), "password": PASSWORD, "nickname": "ana" }),
            "invalid_email",
        ),
        (json!({ "email": "ana@example.com", "password": "밍기적밍기적밍", "nickname": "ana" }), "password_too_short"),
        (json!({ "email": "ana@example.com", "password": "가".repeat(65), "nickname": "ana" }), "password_too_long"),
        (json!({ "email": "ana@example.com", "password": "Password123", "nickname": "ana" }), "password_too_common"),
        (json!({ "email": "ana@example.com", "password": PASSWORD, "nickname": "  " }), "invalid_nickname"),
        (
            json!({ "email": "ana@example.com", "password": PASSWORD, "nickname": "밍기적밍기적밍기적" }),
            "invalid_nickname",
        ),
    ];
    for (body, code) in cases {
        let answer = call(Method::POST, "/v1/auth/signup").json(body.clone()).send(&server).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let missing = call(Method::POST, "/v1/auth/signup").json(json!({ "email": "ana@example.com" })).send(&server).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "invalid_body");
}

#[tokio::test]
async fn a_taken_email_or_nickname_is_a_conflict() {
    let server = server().await;
    sign_up(&server, "ana@example.com", "ana").await;
    let same_email = call(Method::POST, "/v1/auth/signup")
        .json(json!({ "email": " ANA@example.com", "password": PASSWORD, "nickname": "other" }))
        .send(&server)
        .await;
    assert_error(&same_email, StatusCode::CONFLICT, "email_taken");
    let same_nickname = call(Method::POST, "/v1/auth/signup")
        .json(json!({ "email": "bo@example.com", "password": PASSWORD, "nickname": "ana" }))
        .send(&server)
        .await;
    assert_error(&same_nickname, StatusCode::CONFLICT, "nickname_taken");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let server = server().await;
    sign_up(&server, "ana@example.com", "ana").await;
    let wrong = log_in(&server, "ana@example.com", "not the password").await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = log_in(&server, "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown, wrong, "nothing tells which emails have accounts");
    let (status, session) = log_in(&server, "Ana@Example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["email"], "ana@example.com");
}

#[tokio::test]
async fn refreshing_rotates_the_pair_and_reusing_a_spent_token_signs_that_login_out() {
    let server = server().await;
    let first = sign_up(&server, "ana@example.com", "ana").await;
    let (status, second) = refresh(&server, &first["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let (status, _) = call(Method::GET, "/v1/me").bearer(text(&second["access_token"])).send(&server).await;
    assert_eq!(status, StatusCode::OK);

    // Someone replays the first token: the whole login is revoked, the live successor included.
    let reused = refresh(&server, &first["refresh_token"]).await;
    assert_error(&reused, StatusCode::UNAUTHORIZED, "refresh_token_reused");
    let successor = refresh(&server, &second["refresh_token"]).await;
    assert_error(&successor, StatusCode::UNAUTHORIZED, "invalid_token");
    let garbage = refresh(&server, &json!("not-a-token")).await;
    assert_error(&garbage, StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn logging_out_revokes_that_login_only() {
    let server = server().await;
    let laptop = sign_up(&server, "ana@example.com", "ana").await;
    let (_, phone) = log_in(&server, "ana@example.com", PASSWORD).await;
    let (status, body) = call(Method::POST, "/v1/auth/logout")
        .json(json!({ "refresh_token": laptop["refresh_token"] }))
        .send(&server)
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_error(&refresh(&server, &laptop["refresh_token"]).await, StatusCode::UNAUTHORIZED, "invalid_token");
    let (status, _) = refresh(&server, &phone["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "the phone stays signed in");
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(sub: &Value) -> Value {
    json!({ "sub": sub, "iat": now(), "exp": now() + 600, "iss": ISSUER, "aud": AUDIENCE, "typ": "access" })
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let server = server().await;
    let session = sign_up(&server, "ana@example.com", "ana").await;
    let sub = &session["user"]["id"];
    let good = sign(&claims(sub), Algorithm::HS256, SECRET);
    let (status, _) = call(Method::GET, "/v1/me").bearer(&good).send(&server).await;
    assert_eq!(status, StatusCode::OK, "a token made exactly as the server makes them passes");

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(sub).to_string())
    );
    let refused = [
        (sign(&with(claims(sub), "exp", json!(now() - 3600)), Algorithm::HS256, SECRET), "token_expired"),
        (sign(&claims(sub), Algorithm::HS256, "another-secret-another-server-32b"), "invalid_token"),
        (sign(&claims(sub), Algorithm::HS512, SECRET), "invalid_token"),
        (unsigned, "invalid_token"),
        (sign(&with(claims(sub), "aud", json!("someone-else")), Algorithm::HS256, SECRET), "invalid_token"),
        (sign(&with(claims(sub), "iss", json!("evil")), Algorithm::HS256, SECRET), "invalid_token"),
        (sign(&with(claims(sub), "typ", json!("refresh")), Algorithm::HS256, SECRET), "invalid_token"),
        (text(&session["refresh_token"]).to_owned(), "invalid_token"),
        ("garbage".to_owned(), "invalid_token"),
    ];
    for (token, code) in refused {
        let answer = call(Method::GET, "/v1/me").bearer(&token).send(&server).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, code);
    }
    assert_error(&call(Method::GET, "/v1/me").send(&server).await, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn the_profile_changes_nickname_and_password_only_with_the_current_password() {
    let server = server().await;
    let session = sign_up(&server, "ana@example.com", "ana").await;
    sign_up(&server, "bo@example.com", "bo").await;
    let token = text(&session["access_token"]);
    let patch = |body: Value| call(Method::PATCH, "/v1/me").bearer(token).json(body);

    let (status, me) = patch(json!({ "nickname": "밍기적" })).send(&server).await;
    assert_eq!((status, &me["nickname"]), (StatusCode::OK, &json!("밍기적")), "{me}");
    assert_error(&patch(json!({ "nickname": "bo" })).send(&server).await, StatusCode::CONFLICT, "nickname_taken");
    assert_error(&patch(json!({ "nickname": "" })).send(&server).await, StatusCode::BAD_REQUEST, "invalid_nickname");
    assert_error(&patch(json!({})).send(&server).await, StatusCode::BAD_REQUEST, "nothing_to_change");
    let new_password = "two squats a day";
    assert_error(
        &patch(json!({ "password": new_password })).send(&server).await,
        StatusCode::BAD_REQUEST,
        "current_password_required",
    );
    assert_error(
        &patch(json!({ "password": new_password, "current_password": "a wrong guess" })).send(&server).await,
        StatusCode::FORBIDDEN,
        "wrong_current_password",
    );
    assert_error(
        &patch(json!({ "password": "qwerty123", "current_password": PASSWORD })).send(&server).await,
        StatusCode::BAD_REQUEST,
        "password_too_common",
    );
    let (status, _) = patch(json!({ "password": new_password, "current_password": PASSWORD })).send(&server).await;
    assert_eq!(status, StatusCode::OK);
    assert_error(&log_in(&server, "ana@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(log_in(&server, "ana@example.com", new_password).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_account_is_signed_out_everywhere_and_signing_in_restores_it() {
    let server = server().await;
    let session = sign_up(&server, "ana@example.com", "ana").await;
    let token = text(&session["access_token"]);
    let (status, _) = call(Method::DELETE, "/v1/me").bearer(token).send(&server).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &call(Method::GET, "/v1/me").bearer(token).send(&server).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(&refresh(&server, &session["refresh_token"]).await, StatusCode::UNAUTHORIZED, "invalid_token");
    let taken = call(Method::POST, "/v1/auth/signup")
        .json(json!({ "email": "ana@example.com", "password": PASSWORD, "nickname": "new-ana" }))
        .send(&server)
        .await;
    assert_error(&taken, StatusCode::CONFLICT, "email_taken");

    let (status, restored) = log_in(&server, "ana@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["user"]["id"], session["user"]["id"], "the same account comes back");
    let (status, me) = call(Method::GET, "/v1/me").bearer(text(&restored["access_token"])).send(&server).await;
    assert_eq!((status, &me["nickname"]), (StatusCode::OK, &json!("ana")));
}

#[tokio::test]
async fn repeated_failed_logins_from_one_address_are_throttled() {
    let server = server().await;
    sign_up(&server, "ana@example.com", "ana").await;
    let attacker = [203, 0, 113, 9];
    let attempt = |email: &'static str, password: &'static str, ip: [u8; 4]| {
        call(Method::POST, "/v1/auth/login").json(json!({ "email": email, "password": password })).sent_from(ip)
    };
    for _ in 0..IP_FAILURES_PER_MINUTE {
        let answer = attempt("someone@example.com", "guess guess", attacker).send(&server).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let answer = attempt("ana@example.com", PASSWORD, attacker).send(&server).await;
    assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let (status, _) = attempt("ana@example.com", PASSWORD, [198, 51, 100, 1]).send(&server).await;
    assert_eq!(status, StatusCode::OK, "another address is not held back");
}

#[tokio::test]
async fn an_account_takes_at_most_a_hundred_failures_an_hour_from_any_number_of_addresses() {
    let server = server().await;
    sign_up(&server, "ana@example.com", "ana").await;
    for i in 0..ACCOUNT_FAILURES_PER_HOUR {
        // A botnet: a few tries per address, always under the per-address limit.
        let ip = [10, 0, (i / 5) as u8, 1];
        let answer = call(Method::POST, "/v1/auth/login")
            .json(json!({ "email": "ana@example.com", "password": format!("guess {i}") }))
            .sent_from(ip)
            .send(&server)
            .await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let answer = call(Method::POST, "/v1/auth/login")
        .json(json!({ "email": "ana@example.com", "password": PASSWORD }))
        .sent_from([198, 51, 100, 2])
        .send(&server)
        .await;
    assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}
