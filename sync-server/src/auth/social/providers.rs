//! Talking to a provider: the authorization URL (PKCE S256, state, and a nonce for OpenID Connect),
//! the code exchange at its token endpoint through the `oauth2` crate, and, for the providers that
//! are plain OAuth 2.0 here (Kakao, Naver), the user's identity from their userinfo endpoint. What
//! an answer means for an account is decided in `flow`; the id_token of OpenID Connect in `oidc`.

use std::fmt;
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::url::Url;
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, StandardRevocableToken, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::super::AuthError;
use crate::config::{Provider, ProviderConfig};

/// How long one request to a provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Who the provider says signed in: its stable id for the user and, when it vouches for one, an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    pub subject: String,
    pub email: Option<String>,
}

/// What a token endpoint answers, read leniently: Naver sends `expires_in` as a string, and only
/// OpenID Connect providers send an `id_token`. Nothing but these two fields is used.
#[derive(Clone, Deserialize, Serialize)]
pub struct ProviderTokens {
    access_token: AccessToken,
    #[serde(default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default)]
    id_token: Option<String>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl ProviderTokens {
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }
}

impl fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProviderTokens([redacted])")
    }
}

impl TokenResponse for ProviderTokens {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        None
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        None
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

type ProviderClient = oauth2::Client<
    BasicErrorResponse,
    ProviderTokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The `oauth2` client for one provider, returning to `callback` (this server's callback route).
fn client(config: &ProviderConfig, callback: &Url) -> ProviderClient {
    oauth2::Client::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(config.client_secret.expose().to_owned()))
        .set_auth_uri(AuthUrl::from_url(config.auth_url.clone()))
        .set_token_uri(TokenUrl::from_url(config.token_url.clone()))
        .set_redirect_uri(RedirectUrl::from_url(callback.clone()))
        // Kakao and Naver take the secret only in the form body; Google takes it either way.
        .set_auth_type(AuthType::RequestBody)
}

/// The HTTP client for provider calls. Redirects are never followed (an endpoint that redirects
/// could point the server anywhere), and a provider that hangs fails the sign-in in time.
pub fn http_client() -> Result<reqwest::Client, AuthError> {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(PROVIDER_TIMEOUT).build().map_err(
        |e| {
            tracing::error!(error = %e, "cannot build the HTTP client for sign-in providers");
            AuthError::ProviderFailed
        },
    )
}

/// A started sign-in: where to send the browser, and the secrets to keep until the callback.
pub struct Authorization {
    pub url: Url,
    pub state: String,
    pub pkce_verifier: String,
}

/// The provider's authorization URL with PKCE S256, `state` and, for OpenID Connect, `nonce`.
pub fn authorization(provider: Provider, config: &ProviderConfig, callback: &Url, nonce: &str) -> Authorization {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(config, callback);
    let mut request = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    request = match provider {
        Provider::Google => request
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .add_extra_param("nonce", nonce),
        // Kakao and Naver grant what the app's console enables; no scope needs asking for.
        Provider::Kakao | Provider::Naver => request,
    };
    let (url, state) = request.url();
    Authorization { url, state: state.secret().clone(), pkce_verifier: verifier.secret().clone() }
}

/// Trades the provider's authorization code for its tokens, proving the PKCE verifier.
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: Provider,
    config: &ProviderConfig,
    callback: &Url,
    code: String,
    pkce_verifier: String,
    state: &str,
) -> Result<ProviderTokens, AuthError> {
    let client = client(config, callback);
    let mut request =
        client.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier));
    if provider == Provider::Naver {
        // Naver's token endpoint wants the state of the authorization request back.
        request = request.add_extra_param("state", state.to_owned());
    }
    request.request_async(http).await.map_err(|e| {
        let detail = match &e {
            oauth2::RequestTokenError::ServerResponse(response) => response.to_string(),
            other => other.to_string(),
        };
        tracing::warn!(%provider, error = %detail, "the provider refused the code exchange");
        AuthError::ProviderFailed
    })
}

/// The identity a plain OAuth 2.0 provider's userinfo endpoint reports for an access token.
pub async fn userinfo(
    http: &reqwest::Client,
    provider: Provider,
    config: &ProviderConfig,
    access_token: &AccessToken,
) -> Result<ProviderIdentity, AuthError> {
    let failed = |what: String| {
        tracing::warn!(%provider, error = %what, "the provider's userinfo endpoint failed");
        AuthError::ProviderFailed
    };
    let response = http
        .get(config.userinfo_url.clone())
        .bearer_auth(access_token.secret())
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    let body: serde_json::Value = response.json().await.map_err(|e| failed(e.to_string()))?;
    identity_from_userinfo(provider, &body).ok_or_else(|| failed(format!("unexpected answer {body}")))
}

/// Reads the provider's userinfo answer: Kakao's `{"id": 123, "kakao_account": {"email"}}`, Naver's
/// `{"resultcode": "00", "response": {"id", "email"}}`, or an OpenID Connect `{"sub", "email"}`.
pub fn identity_from_userinfo(provider: Provider, body: &serde_json::Value) -> Option<ProviderIdentity> {
    let text = |v: &serde_json::Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    match provider {
        Provider::Kakao => {
            let subject = match &body["id"] {
                serde_json::Value::Number(n) => n.to_string(),
                other => text(other)?,
            };
            let account = &body["kakao_account"];
            // An address Kakao says is unverified or no longer valid is not taken.
            let vouched = account["is_email_verified"].as_bool() != Some(false)
                && account["is_email_valid"].as_bool() != Some(false);
            Some(ProviderIdentity { subject, email: text(&account["email"]).filter(|_| vouched) })
        }
        Provider::Naver => {
            if body["resultcode"].as_str() != Some("00") {
                return None;
            }
            let response = &body["response"];
            Some(ProviderIdentity { subject: text(&response["id"])?, email: text(&response["email"]) })
        }
        Provider::Google => Some(ProviderIdentity {
            subject: text(&body["sub"])?,
            email: text(&body["email"]).filter(|_| body["email_verified"].as_bool() == Some(true)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_provider_s_userinfo_names_a_subject() {
        let kakao = identity_from_userinfo(
            Provider::Kakao,
            &json!({ "id": 123, "kakao_account": { "email": "a@kakao.example", "is_email_verified": true } }),
        );
        assert_eq!(kakao, Some(ProviderIdentity { subject: "123".into(), email: Some("a@kakao.example".into()) }));
        let unverified = identity_from_userinfo(
            Provider::Kakao,
            &json!({ "id": 5, "kakao_account": { "email": "b@kakao.example", "is_email_verified": false } }),
        );
        assert_eq!(unverified.and_then(|i| i.email), None);
        let naver = identity_from_userinfo(
            Provider::Naver,
            &json!({ "resultcode": "00", "response": { "id": "nv-1", "email": "c@naver.example", "nickname": "c" } }),
        );
        assert_eq!(naver.map(|i| i.subject), Some("nv-1".into()));
        let refused = identity_from_userinfo(Provider::Naver, &json!({ "resultcode": "024", "message": "fail" }));
        assert_eq!(refused, None);
        assert_eq!(identity_from_userinfo(Provider::Kakao, &json!({ "kakao_account": {} })), None);
    }
}
