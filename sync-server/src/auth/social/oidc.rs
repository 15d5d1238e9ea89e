//! The OpenID Connect half of a Google sign-in: the id_token from the token endpoint is checked here
//! before its subject is believed. Its signature is verified against the provider's published keys
//! (JWKS, fetched for each sign-in: sign-ins are rare and keys rotate), RS256 only, and its `iss`,
//! `aud` (our client id), `exp` and `nonce` (the one stored with this sign-in's state) must match.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::super::AuthError;
use super::providers::ProviderIdentity;
use crate::config::ProviderConfig;

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECONDS: u64 = 60;
/// Google's id_tokens carry either form of its issuer.
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_ISSUER_BARE: &str = "accounts.google.com";

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// The identity a valid id_token names. `InvalidIdToken` for anything wrong with the token itself;
/// `ProviderFailed` when the keys cannot be fetched.
pub async fn verify_id_token(
    http: &reqwest::Client,
    config: &ProviderConfig,
    id_token: &str,
    nonce: &str,
) -> Result<ProviderIdentity, AuthError> {
    let refused = |why: &str| {
        tracing::warn!(reason = why, "an id_token was refused");
        AuthError::InvalidIdToken
    };
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| refused("malformed"))?;
    if header.alg != Algorithm::RS256 {
        return Err(refused("algorithm other than RS256"));
    }
    let (Some(issuer), Some(jwks_url)) = (config.issuer.as_deref(), config.jwks_url.as_ref()) else {
        tracing::error!("an OpenID Connect provider is configured without issuer or jwks_url");
        return Err(AuthError::ProviderFailed);
    };
    let keys = fetch_keys(http, jwks_url).await?;
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| refused("signed by a key the provider does not publish"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| refused("unusable key"))?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = vec![Algorithm::RS256];
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    if issuer == GOOGLE_ISSUER {
        validation.set_issuer(&[GOOGLE_ISSUER, GOOGLE_ISSUER_BARE]);
    } else {
        validation.set_issuer(&[issuer]);
    }
    validation.set_audience(&[config.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
        .map_err(|e| refused(&format!("{:?}", e.kind())))?
        .claims;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(refused("nonce does not match this sign-in"));
    }
    // Older Google tokens sent `"email_verified": "true"`.
    let verified = matches!(&claims.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
    Ok(ProviderIdentity { subject: claims.sub, email: claims.email.filter(|_| verified) })
}

async fn fetch_keys(http: &reqwest::Client, url: &oauth2::url::Url) -> Result<JwkSet, AuthError> {
    let failed = |what: String| {
        tracing::warn!(error = %what, "the provider's key set could not be fetched");
        AuthError::ProviderFailed
    };
    let response = http.get(url.clone()).send().await.map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    response.json::<JwkSet>().await.map_err(|e| failed(e.to_string()))
}
