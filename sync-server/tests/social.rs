//! Social sign-in seen from the app and the browser: the real server on 127.0.0.1:0, a fake identity
//! provider beside it (see `fake_idp`), and a real HTTP client that follows every redirect by hand.
//! Covers the whole Google (OpenID Connect), Kakao and Naver flows, the second sign-in finding the
//! same account, and each refusal: bad state, replayed provider code, an id_token for another
//! audience or nonce, a replayed or mismatched one-time code, an unconfigured provider and a
//! redirect_uri outside the allow-list.

mod fake_idp;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_idp::{FakeIdp, Flavor};
use mingizuk_server::auth::IP_SOCIAL_STARTS_PER_MINUTE;
use mingizuk_server::storage::{self, AuthCode, CodeChallenge, Storage, TokenHash};
use mingizuk_server::{AppState, Config, server};
use reqwest::{StatusCode, Url, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";
const APP_REDIRECT: &str = "http://127.0.0.1:53682/done";

struct Server {
    base: String,
    http: reqwest::Client,
    storage: Arc<dyn Storage>,
    _dir: TempDir,
}

/// Starts the server with the given providers configured (each with the given variable prefix).
async fn server(providers: &[(&FakeIdp, &str)]) -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), SECRET.to_owned()),
        ("MINGIZUK_PUBLIC_URL".to_owned(), base.clone()),
    ]
    .into();
    for (idp, prefix) in providers {
        env.extend(idp.env(prefix));
    }
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    let state = AppState::new(config, Arc::clone(&storage));
    tokio::spawn(server::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Server { base, http, storage, _dir: dir }
}

fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn verifier(tag: &str) -> String {
    format!("app-verifier-{tag}-0123456789abcdefghijklmnopqrstuvwxyz")
}

fn location(response: &reqwest::Response) -> Url {
    assert_eq!(response.status(), StatusCode::FOUND, "expected a redirect");
    let text = response.headers()[header::LOCATION].to_str().expect("Location");
    Url::parse(text).expect("absolute Location")
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("JSON error");
    (status, body["error"]["code"].as_str().expect("error code").to_owned())
}

impl Server {
    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("GET")
    }

    /// `GET /v1/auth/{provider}/start`; returns the provider's authorization URL.
    async fn start(&self, provider: &str, app_redirect: &str, verifier: &str) -> Url {
        let mut url = Url::parse(&format!("{}/v1/auth/{provider}/start", self.base)).expect("url");
        url.query_pairs_mut()
            .append_pair("redirect_uri", app_redirect)
            .append_pair("code_challenge", &challenge_of(verifier))
            .append_pair("code_challenge_method", "S256");
        location(&self.get(url.as_str()).await)
    }

    /// Starts a sign-in and lets the browser visit the provider; returns the server callback URL.
    async fn through_provider(&self, provider: &str, verifier: &str) -> Url {
        let authorize = self.start(provider, APP_REDIRECT, verifier).await;
        location(&self.get(authorize.as_str()).await)
    }

    /// The whole browser part: start, provider, callback. Returns where the app was sent.
    async fn sign_in(&self, provider: &str, verifier: &str) -> Url {
        let callback = self.through_provider(provider, verifier).await;
        location(&self.get(callback.as_str()).await)
    }

    async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/auth/exchange", self.base))
            .json(&json!({ "code": code, "code_verifier": verifier }))
            .send()
            .await
            .expect("POST exchange")
    }

    /// The whole sign-in as the app sees it; returns the session.
    async fn session(&self, provider: &str, tag: &str) -> Value {
        let verifier = verifier(tag);
        let back = self.sign_in(provider, &verifier).await;
        assert!(back.as_str().starts_with(APP_REDIRECT), "{back}");
        let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
        let response = self.exchange(&code, &verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("session")
    }
}

#[tokio::test]
async fn google_sign_in_runs_end_to_end_and_signing_in_again_finds_the_same_account() {
    let google = FakeIdp::start(Flavor::Google).await;
    let server = server(&[(&google, "MINGIZUK_OAUTH_GOOGLE")]).await;
    google.sign_in_as("g-1001", Some("Mina@Example.com"));

    let authorize = server.start("google", APP_REDIRECT, &verifier("look")).await;
    assert!(authorize.as_str().starts_with(&format!("{}/authorize", google.base)));
    assert_eq!(param(&authorize, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&authorize, "client_id").as_deref(), Some(google.client_id.as_str()));
    assert!(param(&authorize, "state").is_some() && param(&authorize, "nonce").is_some());
    assert_ne!(param(&authorize, "code_challenge"), Some(challenge_of(&verifier("look"))), "the server's own PKCE");

    let session = server.session("google", "first").await;
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"]["email"], "mina@example.com");
    assert_eq!(session["user"]["provider"], "google", "the profile names the provider (PRODUCT.md §2)");
    assert_eq!(session["user"]["nickname"].as_str().map(|n| n.chars().count()), Some(8));
    let me = server
        .http
        .get(format!("{}/v1/me", server.base))
        .bearer_auth(session["access_token"].as_str().expect("access token"))
        .send()
        .await
        .expect("GET /v1/me");
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.expect("me");
    assert_eq!(me["provider"], "google");

    let again = server.session("google", "second").await;
    assert_eq!(again["user"]["id"], session["user"]["id"], "same (provider, subject), same account");
    google.sign_in_as("g-2002", Some("mina@example.com"));
    let other = server.session("google", "third").await;
    assert_ne!(other["user"]["id"], session["user"]["id"], "another subject is another account");
    let placeholder = other["user"]["email"].as_str().expect("email");
    assert!(placeholder.ends_with(".invalid"), "a taken email is not shared: {placeholder}");
}

#[tokio::test]
async fn kakao_and_naver_sign_ins_read_their_userinfo_endpoints() {
    let kakao = FakeIdp::start(Flavor::Kakao).await;
    let naver = FakeIdp::start(Flavor::Naver).await;
    let server = server(&[(&kakao, "MINGIZUK_KAKAO"), (&naver, "MINGIZUK_NAVER")]).await;
    kakao.sign_in_as("4242", Some("kim@kakao.example"));
    naver.sign_in_as("naver-77", Some("lee@naver.example"));
    let k = server.session("kakao", "k").await;
    let n = server.session("naver", "n").await;
    assert_eq!(k["user"]["email"], "kim@kakao.example");
    assert_eq!(n["user"]["email"], "lee@naver.example");
    assert_eq!((&k["user"]["provider"], &n["user"]["provider"]), (&json!("kakao"), &json!("naver")));
    assert_ne!(k["user"]["id"], n["user"]["id"]);
    assert_eq!(server.session("kakao", "k2").await["user"]["id"], k["user"]["id"]);
    // The same subject at another provider is another person.
    naver.sign_in_as("4242", None);
    assert_ne!(server.session("naver", "n2").await["user"]["id"], k["user"]["id"]);
}

#[tokio::test]
async fn a_missing_unknown_or_spent_state_is_refused() {
    let kakao = FakeIdp::start(Flavor::Kakao).await;
    let server = server(&[(&kakao, "MINGIZUK_KAKAO")]).await;
    let callback = format!("{}/v1/auth/kakao/callback", server.base);
    for url in [format!("{callback}?code=x"), format!("{callback}?code=x&state=made-up")] {
        assert_eq!(error_of(server.get(&url).await).await, (StatusCode::BAD_REQUEST, "invalid_state".into()));
    }
    let back = server.through_provider("kakao", &verifier("s")).await;
    assert_eq!(server.get(back.as_str()).await.status(), StatusCode::FOUND);
    let replay = server.get(back.as_str()).await;
    assert_eq!(error_of(replay).await, (StatusCode::BAD_REQUEST, "invalid_state".into()));
    // A state started for Kakao is not accepted on another provider's callback.
    let back = server.through_provider("kakao", &verifier("t")).await;
    let elsewhere = back.as_str().replace("/kakao/", "/naver/");
    assert_eq!(error_of(server.get(&elsewhere).await).await, (StatusCode::BAD_REQUEST, "invalid_state".into()));
}

#[tokio::test]
async fn a_replayed_provider_code_or_a_refusal_at_the_provider_reaches_the_app_as_an_error() {
    let naver = FakeIdp::start(Flavor::Naver).await;
    let server = server(&[(&naver, "MINGIZUK_OAUTH_NAVER")]).await;
    let first = server.through_provider("naver", &verifier("a")).await;
    let old_code = param(&first, "code").expect("provider code");
    assert!(param(&location(&server.get(first.as_str()).await), "code").is_some());

    // A fresh sign-in whose callback carries the spent code: the provider refuses the exchange.
    let second = server.through_provider("naver", &verifier("b")).await;
    let mut forged = second.clone();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &old_code)
        .append_pair("state", &param(&second, "state").expect("state"));
    let back = location(&server.get(forged.as_str()).await);
    assert!(back.as_str().starts_with(APP_REDIRECT));
    assert_eq!(param(&back, "error").as_deref(), Some("provider_error"));
    assert_eq!(param(&back, "code"), None);

    // The user said no at the provider.
    let third = server.through_provider("naver", &verifier("c")).await;
    let mut denied = third.clone();
    denied
        .query_pairs_mut()
        .clear()
        .append_pair("error", "access_denied")
        .append_pair("state", &param(&third, "state").expect("state"));
    let back = location(&server.get(denied.as_str()).await);
    assert_eq!(param(&back, "error").as_deref(), Some("provider_denied"));
}

#[tokio::test]
async fn an_id_token_for_another_audience_or_with_another_nonce_is_refused() {
    let google = FakeIdp::start(Flavor::Google).await;
    let server = server(&[(&google, "MINGIZUK_GOOGLE")]).await;
    google.issue_id_tokens_for_audience(Some("someone-elses-client"));
    let back = server.sign_in("google", &verifier("aud")).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_id_token"));
    google.issue_id_tokens_for_audience(None);
    google.issue_id_tokens_with_nonce(Some("a-nonce-from-another-sign-in"));
    let back = server.sign_in("google", &verifier("nonce")).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_id_token"));
    google.issue_id_tokens_with_nonce(None);
    let back = server.sign_in("google", &verifier("fine")).await;
    assert!(param(&back, "code").is_some(), "{back}");
}

#[tokio::test]
async fn a_one_time_code_works_once_only_in_time_and_only_with_its_verifier() {
    let kakao = FakeIdp::start(Flavor::Kakao).await;
    let server = server(&[(&kakao, "MINGIZUK_KAKAO")]).await;
    let invalid_grant = (StatusCode::BAD_REQUEST, "invalid_grant".to_owned());

    let back = server.sign_in("kakao", &verifier("right")).await;
    let code = param(&back, "code").expect("code");
    assert_eq!(error_of(server.exchange(&code, &verifier("wrong")).await).await, invalid_grant);
    assert_eq!(
        error_of(server.exchange(&code, &verifier("right")).await).await,
        invalid_grant,
        "a failed attempt spends the code"
    );

    let back = server.sign_in("kakao", &verifier("once")).await;
    let code = param(&back, "code").expect("code");
    assert_eq!(server.exchange(&code, &verifier("once")).await.status(), StatusCode::OK);
    assert_eq!(error_of(server.exchange(&code, &verifier("once")).await).await, invalid_grant);

    let session: Value = {
        let back = server.sign_in("kakao", &verifier("user")).await;
        let code = param(&back, "code").expect("code");
        server.exchange(&code, &verifier("user")).await.json().await.expect("session")
    };
    let user_id = uuid::Uuid::parse_str(session["user"]["id"].as_str().expect("id")).expect("uuid");
    let expired = AuthCode {
        hash: TokenHash::of(b"an-expired-code"),
        user_id: mingizuk_server::storage::UserId(user_id),
        code_challenge: CodeChallenge::parse(&challenge_of(&verifier("late"))).expect("challenge"),
        expires_at: chrono::Utc::now() - chrono::Duration::seconds(1),
    };
    server.storage.insert_auth_code(&expired).await.expect("insert");
    assert_eq!(error_of(server.exchange("an-expired-code", &verifier("late")).await).await, invalid_grant);
}

#[tokio::test]
async fn an_unconfigured_provider_is_told_to_the_waiting_app_and_an_unknown_one_does_not_exist() {
    let google = FakeIdp::start(Flavor::Google).await;
    let server = server(&[(&google, "MINGIZUK_GOOGLE")]).await;
    let challenge = challenge_of(&verifier("x"));
    let naver = server
        .get(&format!("{}/v1/auth/naver/start?redirect_uri={APP_REDIRECT}&code_challenge={challenge}", server.base))
        .await;
    // The app waits on its loopback address, not in the browser: the refusal goes back to it.
    assert_eq!(refusal_back(&naver).as_deref(), Some("provider_not_configured"));
    // With no app address that may be used, there is nowhere to send it: an error for the browser.
    let nowhere = server.get(&format!("{}/v1/auth/naver/start?code_challenge={challenge}", server.base)).await;
    assert_eq!(error_of(nowhere).await, (StatusCode::BAD_REQUEST, "redirect_uri_not_allowed".into()));
    let github = server.get(&format!("{}/v1/auth/github/start", server.base)).await;
    assert_eq!(error_of(github).await, (StatusCode::NOT_FOUND, "not_found".into()));
}

#[tokio::test]
async fn a_redirect_uri_outside_the_allow_list_or_a_bad_challenge_is_refused() {
    let kakao = FakeIdp::start(Flavor::Kakao).await;
    let server = server(&[(&kakao, "MINGIZUK_KAKAO")]).await;
    let start = |redirect: &str, challenge: &str| {
        let mut url = Url::parse(&format!("{}/v1/auth/kakao/start", server.base)).expect("url");
        url.query_pairs_mut().append_pair("redirect_uri", redirect).append_pair("code_challenge", challenge);
        url
    };
    let challenge = challenge_of(&verifier("x"));
    for redirect in
        ["https://evil.example/steal", "http://localhost:8080/cb", "http://127.0.0.1/no-port", "other://auth"]
    {
        let refused = server.get(start(redirect, &challenge).as_str()).await;
        assert_eq!(error_of(refused).await, (StatusCode::BAD_REQUEST, "redirect_uri_not_allowed".into()), "{redirect}");
    }
    let deep_link = server.get(start("mingizuk://auth", &challenge).as_str()).await;
    assert_eq!(deep_link.status(), StatusCode::FOUND);
    let plain = server.get(start(APP_REDIRECT, "plain-not-s256").as_str()).await;
    assert_eq!(refusal_back(&plain).as_deref(), Some("invalid_code_challenge"));
}

#[tokio::test]
async fn one_client_starting_social_sign_ins_in_a_flood_is_turned_back_to_the_app() {
    let kakao = FakeIdp::start(Flavor::Kakao).await;
    let server = server(&[(&kakao, "MINGIZUK_KAKAO")]).await;
    for i in 0..IP_SOCIAL_STARTS_PER_MINUTE {
        let authorize = server.start("kakao", APP_REDIRECT, &verifier(&i.to_string())).await;
        assert!(authorize.as_str().starts_with(&kakao.base), "{authorize}");
    }
    let challenge = challenge_of(&verifier("one-more"));
    let start = format!("{}/v1/auth/kakao/start?redirect_uri={APP_REDIRECT}&code_challenge={challenge}", server.base);
    assert_eq!(refusal_back(&server.get(&start).await).as_deref(), Some("too_many_attempts"));
}

/// The `error` of a redirect back to the app.
fn refusal_back(response: &reqwest::Response) -> Option<String> {
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = Url::parse(response.headers()[header::LOCATION].to_str().expect("location")).expect("url");
    assert!(back.as_str().starts_with(APP_REDIRECT), "{back}");
    assert_eq!(param(&back, "code"), None);
    param(&back, "error")
}
