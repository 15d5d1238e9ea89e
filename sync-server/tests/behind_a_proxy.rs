//! The server behind a reverse proxy (nginx, Caddy): with the proxy's address in
//! `MINGIZUK_TRUSTED_PROXIES`, throttles count each person by the address the proxy saw, so one
//! person's flood does not lock out everyone else behind the same proxy; without it, or with
//! addresses a client writes itself, `X-Forwarded-For` gets no one out of their throttle. The real
//! server on 127.0.0.1:0, where this test is the proxy: every request comes from 127.0.0.1.

use std::collections::HashMap;

use mingizuk_server::auth::{IP_FAILURES_PER_MINUTE, IP_SOCIAL_STARTS_PER_MINUTE};
use mingizuk_server::storage;
use mingizuk_server::{AppState, Config, server};
use reqwest::{StatusCode, Url, header};
use serde_json::{Value, json};
use tempfile::TempDir;

const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";
const PASSWORD: &str = "tiny daily squats";
const APP_REDIRECT: &str = "http://127.0.0.1:53682/done";
/// Someone behind the proxy trying passwords, and someone else behind it signing in.
const ATTACKER: &str = "203.0.113.9";
const ANA: &str = "198.51.100.1";

struct Server {
    base: String,
    http: reqwest::Client,
    _dir: TempDir,
}

/// Starts the server, trusting `trusted_proxies` (as `MINGIZUK_TRUSTED_PROXIES` reads them) if any.
async fn server(trusted_proxies: Option<&str>) -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
        ("MINGIZUK_PUBLIC_URL".to_owned(), base.clone()),
    ]
    .into();
    if let Some(list) = trusted_proxies {
        env.insert("MINGIZUK_TRUSTED_PROXIES".to_owned(), list.to_owned());
    }
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    tokio::spawn(server::serve(listener, AppState::new(config, storage), std::future::pending()));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Server { base, http, _dir: dir }
}

impl Server {
    async fn sign_up(&self, email: &str, nickname: &str) {
        let response = self
            .http
            .post(format!("{}/v1/auth/signup", self.base))
            .json(&json!({ "email": email, "password": PASSWORD, "nickname": nickname }))
            .send()
            .await
            .expect("POST signup");
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    /// A login arriving with `X-Forwarded-For: forwarded_for`; the status and the error code, if any.
    async fn log_in(&self, forwarded_for: &str, email: &str, password: &str) -> (StatusCode, Option<String>) {
        let response = self
            .http
            .post(format!("{}/v1/auth/login", self.base))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("POST login");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        (status, body["error"]["code"].as_str().map(str::to_owned))
    }

    /// Fails logins of an unknown account with `X-Forwarded-For` from `forwarded_for(i)` until the
    /// per-address limit, checking each is refused as a wrong password.
    async fn fail_logins(&self, forwarded_for: impl Fn(usize) -> String) {
        for i in 0..IP_FAILURES_PER_MINUTE {
            let answer = self.log_in(&forwarded_for(i), "nobody@example.com", &format!("guess {i}")).await;
            assert_eq!(answer, (StatusCode::UNAUTHORIZED, Some("invalid_credentials".into())), "attempt {i}");
        }
    }

    /// Starts a Kakao sign-in (not configured here) arriving with `X-Forwarded-For: forwarded_for`;
    /// the `error` the app is sent back with.
    async fn start_social(&self, forwarded_for: &str) -> String {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let url = format!(
            "{}/v1/auth/kakao/start?redirect_uri={APP_REDIRECT}&code_challenge={challenge}&code_challenge_method=S256",
            self.base
        );
        let response = self.http.get(url).header("x-forwarded-for", forwarded_for).send().await.expect("GET start");
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = Url::parse(response.headers()[header::LOCATION].to_str().expect("Location")).expect("URL");
        assert!(back.as_str().starts_with(APP_REDIRECT), "{back}");
        back.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).expect("an error for the app")
    }
}

#[tokio::test]
async fn one_person_guessing_passwords_behind_a_trusted_proxy_does_not_lock_out_another() {
    let server = server(Some("127.0.0.1")).await;
    server.sign_up("ana@example.com", "ana").await;
    server.fail_logins(|_| ATTACKER.to_owned()).await;
    let answer = server.log_in(ATTACKER, "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts".into())), "the guesser is held back");
    let answer = server.log_in(ANA, "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::OK, None), "ana comes through the same proxy from another address");
}

#[tokio::test]
async fn one_person_flooding_social_sign_ins_behind_a_trusted_proxy_does_not_turn_back_another() {
    let server = server(Some("10.0.0.0/8, 127.0.0.1")).await;
    for i in 0..IP_SOCIAL_STARTS_PER_MINUTE {
        assert_eq!(server.start_social(ATTACKER).await, "provider_not_configured", "start {i}");
    }
    assert_eq!(server.start_social(ATTACKER).await, "too_many_attempts");
    // Through two proxies: the outer one (10.0.0.2) appended what it saw, the inner one its peer.
    assert_eq!(server.start_social(&format!("{ANA}, 10.0.0.2")).await, "provider_not_configured");
}

#[tokio::test]
async fn without_trusted_proxies_a_new_forwarded_address_on_each_attempt_escapes_no_throttle() {
    let server = server(None).await;
    server.sign_up("ana@example.com", "ana").await;
    server.fail_logins(|i| format!("192.0.2.{i}")).await;
    let answer = server.log_in(ANA, "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts".into())), "the header is not believed");
    for i in 0..IP_SOCIAL_STARTS_PER_MINUTE {
        server.start_social(&format!("192.0.2.{i}")).await;
    }
    assert_eq!(server.start_social(ANA).await, "too_many_attempts");
}

#[tokio::test]
async fn addresses_a_client_prepends_to_the_header_do_not_get_it_out_of_its_throttle() {
    let server = server(Some("127.0.0.1")).await;
    server.sign_up("ana@example.com", "ana").await;
    // The guesser sends its own X-Forwarded-For, new each time, some of it looking like the proxy;
    // the proxy appends the address it saw.
    server.fail_logins(|i| format!("192.0.2.{i}, 127.0.0.1, {ATTACKER}")).await;
    let answer = server.log_in(&format!("198.51.100.77, {ATTACKER}"), "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts".into())));
    let answer = server.log_in(&format!("{ANA}, garbage, {ATTACKER}"), "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts".into())), "nor does garbage");
    let answer = server.log_in(ANA, "ana@example.com", PASSWORD).await;
    assert_eq!(answer, (StatusCode::OK, None), "while ana, behind the same proxy, signs in");
}
