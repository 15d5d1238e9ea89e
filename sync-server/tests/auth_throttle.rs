//! Failed logins are throttled (PRODUCT.md §2): per client address and per account, whether the
//! attempts come one by one or all at once; and a refused profile change changes nothing.

mod auth_client;

use auth_client::{PASSWORD, assert_error, call, log_in, server, sign_up, text};
use axum::http::{Method, StatusCode};
use futures_util::future::join_all;
use mingizuk_server::auth::{ACCOUNT_FAILURES_PER_HOUR, IP_FAILURES_PER_MINUTE};
use serde_json::json;

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

#[tokio::test]
async fn failed_logins_sent_all_at_once_are_throttled_as_if_sent_one_by_one() {
    let server = server().await;
    let attacker = [203, 0, 113, 10];
    let burst = IP_FAILURES_PER_MINUTE + 10;
    let answers = join_all((0..burst).map(|i| {
        call(Method::POST, "/v1/auth/login")
            .json(json!({ "email": "ana@example.com", "password": format!("guess {i}") }))
            .sent_from(attacker)
            .send(&server)
    }))
    .await;
    let count = |code: &str| answers.iter().filter(|(_, body)| body["error"]["code"] == code).count();
    assert_eq!(count("invalid_credentials"), IP_FAILURES_PER_MINUTE, "only the limit's worth of guesses is checked");
    assert_eq!(count("too_many_attempts"), 10, "{answers:?}");
}

#[tokio::test]
async fn a_profile_change_refused_for_a_taken_nickname_keeps_the_old_password() {
    let server = server().await;
    let session = sign_up(&server, "ana@example.com", "ana").await;
    sign_up(&server, "bo@example.com", "bo").await;
    let change = json!({ "nickname": "bo", "password": "two squats a day", "current_password": PASSWORD });
    let answer = call(Method::PATCH, "/v1/me").bearer(text(&session["access_token"])).json(change).send(&server).await;
    assert_error(&answer, StatusCode::CONFLICT, "nickname_taken");
    assert_eq!(log_in(&server, "ana@example.com", PASSWORD).await.0, StatusCode::OK, "the password did not change");
}
