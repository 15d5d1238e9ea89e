//! The server's account routes as the client calls them (DESIGN.md "HTTP API"): sign-up, login,
//! refresh, logout and the profile with the account root. Errors keep the server's stable code.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::error::{ClientError, Result};

/// A token pair as the server issues it.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    pub user: UserInfo,
}

/// The signed-in user as the server describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub nickname: String,
    /// How the account signs in: `local` (email and password) or its provider (`google`,
    /// `kakao`, `naver`). Absent from sessions saved before it was kept: the next sign-in or
    /// profile read fills it in.
    #[serde(default)]
    pub provider: Option<String>,
}

/// A change of the profile: a new nickname, or a new password with the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Me {
    #[serde(flatten)]
    user: UserInfo,
    account_root: Uuid,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// A client of one server, by its base URL (`http://127.0.0.1:8787`).
#[derive(Clone)]
pub struct ServerApi {
    base: String,
    http: reqwest::Client,
}

impl ServerApi {
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Self { base: base.trim_end_matches('/').to_owned(), http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The WebSocket URL of document sync.
    pub fn sync_url(&self) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{ws}/v1/sync")
    }

    pub async fn sign_up(&self, email: &str, password: &str, nickname: &str) -> Result<TokenPair> {
        self.post("/v1/auth/signup", json!({ "email": email, "password": password, "nickname": nickname })).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Result<TokenPair> {
        self.post("/v1/auth/login", json!({ "email": email, "password": password })).await
    }

    /// Trades a social login's one-time code for tokens (the desktop hand-off).
    pub async fn exchange(&self, code: &str, code_verifier: &str) -> Result<TokenPair> {
        self.post("/v1/auth/exchange", json!({ "code": code, "code_verifier": code_verifier })).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        self.post("/v1/auth/refresh", json!({ "refresh_token": refresh_token })).await
    }

    pub async fn log_out(&self, refresh_token: &str) -> Result<()> {
        let response = self
            .http
            .post(format!("{}/v1/auth/logout", self.base))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .map_err(network)?;
        if response.status().is_success() { Ok(()) } else { Err(server_error(response).await) }
    }

    /// The user and the root id their documents are named after.
    pub async fn me(&self, access_token: &str) -> Result<(UserInfo, Uuid)> {
        let response =
            self.http.get(format!("{}/v1/me", self.base)).bearer_auth(access_token).send().await.map_err(network)?;
        if !response.status().is_success() {
            return Err(server_error(response).await);
        }
        let me: Me = response.json().await.map_err(network)?;
        Ok((me.user, me.account_root))
    }

    /// Changes the nickname and/or the password (`PATCH /v1/me`); the user as it is now.
    pub async fn change_profile(&self, access_token: &str, change: &ProfileChange) -> Result<UserInfo> {
        let response = self
            .http
            .patch(format!("{}/v1/me", self.base))
            .bearer_auth(access_token)
            .json(change)
            .send()
            .await
            .map_err(network)?;
        if !response.status().is_success() {
            return Err(server_error(response).await);
        }
        response.json().await.map_err(network)
    }

    /// Deletes the account (`DELETE /v1/me`; signing in within 30 days restores it).
    pub async fn delete_me(&self, access_token: &str) -> Result<()> {
        let response =
            self.http.delete(format!("{}/v1/me", self.base)).bearer_auth(access_token).send().await.map_err(network)?;
        if response.status().is_success() { Ok(()) } else { Err(server_error(response).await) }
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, body: serde_json::Value) -> Result<T> {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.map_err(network)?;
        if !response.status().is_success() {
            return Err(server_error(response).await);
        }
        response.json().await.map_err(network)
    }
}

fn network(e: reqwest::Error) -> ClientError {
    ClientError::Network(e.to_string())
}

/// The server's `{error: {code, message}}` as a client error.
pub(crate) async fn server_error(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    match response.json::<ErrorBody>().await {
        Ok(body) => ClientError::Server { status, code: body.error.code, message: body.error.message },
        Err(_) => ClientError::Server { status, code: "unexpected_response".into(), message: format!("HTTP {status}") },
    }
}
