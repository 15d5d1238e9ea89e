//! A fake identity provider for the social sign-in tests, served with axum on 127.0.0.1:0. It plays
//! Google (OpenID Connect: an RS256 id_token and a JWKS), Kakao or Naver (userinfo endpoints in
//! their own shapes) and checks what a real one checks: client id and secret, the redirect_uri of
//! the authorization request, the PKCE verifier, and that a code is used once. Knobs let a test make
//! it issue an id_token for another audience or with another nonce.
// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A 2048-bit RSA key made for these tests only (PKCS#1 DER, base64), and its public half as JWK
/// modulus and exponent.
const RSA_KEY_DER: &str = "MIIEpAIBAAKCAQEA4tir3FlRMVcG0yFLyHMnw507awvIY8OfM+d8oNtb2bKncuiPsJVWhLOOrK1PXDnnIyKrua03A2q9aEJtSGHXTa0sZEKipVjsi47UyqZ5SxV9wSJq5aPpfb2vHraWBFSpknRcN/hBgudUxAPwk9lzfhvpl4qVDC/a2yk/R0edWqSXgDe9q42j4Tm/VNVDPEnm2fd/zP9MyQJiGkaUeb3pw1cAeeYrXghOJFm1BBKozWhAgQA+7I3x7a8n0qGoLyyjq//1sTh2uY/aRlCP1BpXcJgbBH6DUuedd9hi/6nDMQvpaKH36bz+0BCLGuqoC744BmuNPvk/fazqsyE5m/WUdQIDAQABAoIBAAsneUfj8myZKWI/TGEmXGmvdQj98tQI/e6I7uVf8+O/96DcU5hst2zeAWF3QiQ4Sqe9IDGIlWBrIrYaMhJxkSsmHT0u052KwlLYapkuV198Ros1HIl/Jk+DALXjZ3v+B7qGUzSDVgFQS6g5w14ZvqaQS8uiSlLnlXzaSdzA5jlbL84kDsCmz9sFxpwMbsLw+3RdZebILwf3xo+6dWAnP5rQJvTDDpOy7PZp/HMgyw4y96dCUSsfyKuRPE+Nlg1fZFQDGNQumUUbYAifh3D/4Z5U0qr9RdmAJfA209yEBf1qJMS2EXKgcSlzCSFa9ag3Ujj1uHn5HdaMzhbf26Tde38CgYEA9Ppusffa/Ze9UbfK9r8/78SZp7EGb8/7aBFoWxCDw7D5MOfJr6O22h2+gtbt70LPue4s7limgunxbVnT8nnkM+BA0MVAqoVqpsBZltcmM2JkpNOPbRQqBd4jJBE/b0346oMJ58XTj+myhPAWXxSkvzNf3SPqb6U36dNsAbjs7F8CgYEA7Q1nGleev7ixkGINNqbsx1nvrW9W0Uhnkzyztv/CQEhTlMp5UsuOh+YeZ4Mel9vc0TsBW1jDgLPAR7xMF738eYj7acZ6NF/yG/gTzgINUHxuP5cPgwS1dEy1R5Aq0FZA8CHdAW2aPzQ0RXN4pfoo43PCm1so4jkWD1Fki0hZ76sCgYAEiMIVvy2pde6GHa2/BWksieoCJY+l8CaKFZBl5xdZPuRN2GxuOMyAmv5Us5+xxv3LRjJEsxVZ5PSX/oqiuUjVAPiSJKR+w3tm3LaLyS2m09JjDptf/HiOpT7nQv52k+3ggU5koM+6oSuxtDPlzJ8D/vJuSGTlbhxr0oL0QTT5ZwKBgQC7ToPRRLqjMwTa2R8nt+4P9vhzSi6HX3a32JcIWj7bHEsunm4PBdixeRs9H1XlGEz65mzECPcxktaz2A0oFW6RebNueO3GxKlBgFvlw6lRl4Blrq8LD4VxR8tVqIyr4fudwqQmpLvkhRNobT0/qNL2Jln296juV70ejWmsxJaL0QKBgQDInsPMUXM83l7TN/3KjQZX6fiUpqxib7zxsvYaTByzbHZS5kVb3O8Kfmu6J5hYWL2I+NMUgX0/jTeHWy9NvMXH+NTUz4l+3Qg7QWHxiHMJ1eJVfARTY/XFE+3pFir/AQCZmBFqPJ0dJqg0JRCUDDH5dDvgN7J65WEDeHApeYT4rg==";
const RSA_N: &str = "4tir3FlRMVcG0yFLyHMnw507awvIY8OfM-d8oNtb2bKncuiPsJVWhLOOrK1PXDnnIyKrua03A2q9aEJtSGHXTa0sZEKipVjsi47UyqZ5SxV9wSJq5aPpfb2vHraWBFSpknRcN_hBgudUxAPwk9lzfhvpl4qVDC_a2yk_R0edWqSXgDe9q42j4Tm_VNVDPEnm2fd_zP9MyQJiGkaUeb3pw1cAeeYrXghOJFm1BBKozWhAgQA-7I3x7a8n0qGoLyyjq__1sTh2uY_aRlCP1BpXcJgbBH6DUuedd9hi_6nDMQvpaKH36bz-0BCLGuqoC744BmuNPvk_fazqsyE5m_WUdQ";
const RSA_E: &str = "AQAB";
const KEY_ID: &str = "fake-idp-key-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Google,
    Kakao,
    Naver,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Kakao => "kakao",
            Self::Naver => "naver",
        }
    }
}

/// The user the provider signs in next.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub subject: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
struct Grant {
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    user: FakeUser,
    used: bool,
}

#[derive(Debug)]
struct Inner {
    flavor: Flavor,
    client_id: String,
    client_secret: String,
    issuer: String,
    user: FakeUser,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, FakeUser>,
    /// When set, id_tokens name this audience instead of the client id.
    audience_override: Option<String>,
    /// When set, id_tokens carry this nonce instead of the one asked for.
    nonce_override: Option<String>,
    counter: u64,
}

#[derive(Clone)]
pub struct FakeIdp {
    pub base: String,
    pub flavor: Flavor,
    pub client_id: String,
    pub client_secret: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeIdp {
    pub async fn start(flavor: Flavor) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake IdP");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let client_id = format!("{}-client-id", flavor.name());
        let client_secret = format!("{}-client-secret", flavor.name());
        let inner = Arc::new(Mutex::new(Inner {
            flavor,
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            issuer: base.clone(),
            user: FakeUser { subject: "subject-1".into(), email: None },
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            audience_override: None,
            nonce_override: None,
            counter: 0,
        }));
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake IdP serves");
        });
        Self { base, flavor, client_id, client_secret, inner }
    }

    /// The server's configuration for this provider, as environment variables named after `prefix`
    /// (`MINGIZUK_OAUTH_GOOGLE` or `MINGIZUK_GOOGLE`).
    pub fn env(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars = vec![
            (format!("{prefix}_CLIENT_ID"), self.client_id.clone()),
            (format!("{prefix}_CLIENT_SECRET"), self.client_secret.clone()),
            (format!("{prefix}_AUTH_URL"), format!("{}/authorize", self.base)),
            (format!("{prefix}_TOKEN_URL"), format!("{}/token", self.base)),
            (format!("{prefix}_USERINFO_URL"), format!("{}/userinfo", self.base)),
        ];
        if self.flavor == Flavor::Google {
            vars.push((format!("{prefix}_ISSUER"), self.base.clone()));
            vars.push((format!("{prefix}_JWKS_URL"), format!("{}/jwks", self.base)));
        }
        vars
    }

    pub fn sign_in_as(&self, subject: &str, email: Option<&str>) {
        self.lock().user = FakeUser { subject: subject.into(), email: email.map(str::to_owned) };
    }

    pub fn issue_id_tokens_for_audience(&self, audience: Option<&str>) {
        self.lock().audience_override = audience.map(str::to_owned);
    }

    pub fn issue_id_tokens_with_nonce(&self, nonce: Option<&str>) {
        self.lock().nonce_override = nonce.map(str::to_owned);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake IdP lock")
    }
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": format!("fake IdP: {error}") }))).into_response()
}

async fn authorize(State(inner): State<Arc<Mutex<Inner>>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = inner.lock().expect("lock");
    let param = |k: &str| q.get(k).cloned().unwrap_or_default();
    if param("response_type") != "code" || param("client_id") != inner.client_id {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    if param("code_challenge_method") != "S256" || param("code_challenge").len() != 43 {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    if inner.flavor == Flavor::Google && (!q.contains_key("nonce") || !param("scope").contains("openid")) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    inner.counter += 1;
    let code = format!("code-{}-{}", inner.flavor.name(), inner.counter);
    let grant = Grant {
        redirect_uri: param("redirect_uri"),
        code_challenge: param("code_challenge"),
        nonce: q.get("nonce").cloned(),
        user: inner.user.clone(),
        used: false,
    };
    inner.codes.insert(code.clone(), grant);
    let mut back = reqwest::Url::parse(&param("redirect_uri")).expect("redirect_uri");
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &param("state"));
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

async fn token(State(inner): State<Arc<Mutex<Inner>>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut inner = inner.lock().expect("lock");
    let param = |k: &str| form.get(k).cloned().unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if param("client_id") != inner.client_id || param("client_secret") != inner.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if inner.flavor == Flavor::Naver && param("state").is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Some(grant) = inner.codes.get_mut(&param("code")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(param("code_verifier").as_bytes()));
    if grant.used || grant.redirect_uri != param("redirect_uri") || grant.code_challenge != challenge {
        grant.used = true;
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    grant.used = true;
    let grant = grant.clone();
    inner.counter += 1;
    let access_token = format!("access-{}", inner.counter);
    inner.access_tokens.insert(access_token.clone(), grant.user.clone());
    let mut body = json!({ "access_token": access_token, "token_type": "bearer", "refresh_token": "unused" });
    match inner.flavor {
        // Naver really does send expires_in as a string.
        Flavor::Naver => body["expires_in"] = json!("3600"),
        Flavor::Kakao => body["expires_in"] = json!(21599),
        Flavor::Google => {
            body["expires_in"] = json!(3599);
            body["id_token"] = json!(id_token(&inner, &grant));
        }
    }
    Json(body).into_response()
}

fn id_token(inner: &Inner, grant: &Grant) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": inner.issuer,
        "aud": inner.audience_override.clone().unwrap_or_else(|| inner.client_id.clone()),
        "sub": grant.user.subject,
        "iat": now,
        "exp": now + 3600,
        "nonce": inner.nonce_override.clone().or_else(|| grant.nonce.clone()),
    });
    if let Some(email) = &grant.user.email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(true);
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.to_owned());
    let der = STANDARD.decode(RSA_KEY_DER).expect("test key");
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(&der)).expect("sign the id_token")
}

async fn userinfo(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    let inner = inner.lock().expect("lock");
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(user) = inner.access_tokens.get(token) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token");
    };
    let body: Value = match inner.flavor {
        Flavor::Kakao => json!({
            "id": user.subject.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(user.subject)),
            "kakao_account": { "email": user.email, "is_email_verified": true, "is_email_valid": true }
        }),
        Flavor::Naver => json!({
            "resultcode": "00",
            "message": "success",
            "response": { "id": user.subject, "email": user.email, "nickname": "naver-nick" }
        }),
        Flavor::Google => json!({ "sub": user.subject, "email": user.email, "email_verified": true }),
    };
    Json(body).into_response()
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [{ "kty": "RSA", "kid": KEY_ID, "alg": "RS256", "use": "sig", "n": RSA_N, "e": RSA_E }] }))
}

/// A browser whose user approves at once: follows redirects by hand from `url` until a page answers; returns that page's status and body.
pub async fn browse(url: &str) -> (reqwest::StatusCode, String) {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut url = url.to_owned();
    for _ in 0..10 {
        let response = browser.get(&url).send().await.expect("GET");
        if response.status() != reqwest::StatusCode::FOUND {
            let status = response.status();
            return (status, response.text().await.unwrap_or_default());
        }
        url = response.headers()[reqwest::header::LOCATION].to_str().expect("Location").to_owned();
    }
    panic!("too many redirects");
}
