//! Local accounts and tokens seen from a client, on SQLite through `oneshot`: sign-up rules, login,
//! refresh rotation and reuse detection, logout, every kind of bad access token, profile edits and
//! deletion with restore on sign-in (throttling: `auth_throttle.rs`). Password hashing runs at
//! production cost, so each test signs up as few accounts as it needs.

mod auth_client;

use auth_client::{PASSWORD, SECRET, assert_error, call, log_in, refresh, server, sign_up, text};
use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mingizuk_server::auth::{AUDIENCE, ISSUER};
use serde_json::{Value, json};

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
