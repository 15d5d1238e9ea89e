//! Configuration of the social-login providers (PRODUCT.md §2): for each of Google, Kakao and Naver
//! a client id and secret, and endpoints that default to the provider's real ones, so tests can
//! point them at a fake identity provider on loopback. A provider without a client id and secret
//! is off. Every key can come from the TOML file (`[oauth.google]`, …) or the environment
//! (`MINGIZUK_OAUTH_GOOGLE_CLIENT_ID`, or the shorter `MINGIZUK_GOOGLE_CLIENT_ID`).

use std::collections::HashMap;
use std::fmt;

use oauth2::url::Url;
use serde::Deserialize;

use super::{ConfigError, Secret};

/// Where the app may ask to be sent back to unless configured otherwise: its deep link.
pub const DEFAULT_DEEP_LINK: &str = "mingizuk://auth";

/// The social-login providers the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Kakao,
    Naver,
}

impl Provider {
    pub const ALL: [Self; 3] = [Self::Google, Self::Kakao, Self::Naver];

    /// The name in paths, configuration keys and the `identities` table.
    pub fn name(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Kakao => "kakao",
            Self::Naver => "naver",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether the provider speaks OpenID Connect here: an id_token with a nonce is required.
    pub fn is_oidc(self) -> bool {
        matches!(self, Self::Google)
    }

    /// The provider's real endpoints: authorization, token, userinfo.
    fn default_endpoints(self) -> [&'static str; 3] {
        match self {
            Self::Google => [
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://openidconnect.googleapis.com/v1/userinfo",
            ],
            Self::Kakao => [
                "https://kauth.kakao.com/oauth/authorize",
                "https://kauth.kakao.com/oauth/token",
                "https://kapi.kakao.com/v2/user/me",
            ],
            Self::Naver => [
                "https://nid.naver.com/oauth2.0/authorize",
                "https://nid.naver.com/oauth2.0/token",
                "https://openapi.naver.com/v1/nid/me",
            ],
        }
    }

    /// The id_token issuer and key set of an OpenID Connect provider.
    fn default_oidc(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Google => Some(("https://accounts.google.com", "https://www.googleapis.com/oauth2/v3/certs")),
            Self::Kakao | Self::Naver => None,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One provider's resolved settings.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub auth_url: Url,
    pub token_url: Url,
    pub userinfo_url: Url,
    /// OpenID Connect only: the `iss` every id_token must carry.
    pub issuer: Option<String>,
    /// OpenID Connect only: where the keys that sign id_tokens are published (JWKS).
    pub jwks_url: Option<Url>,
}

/// The configured providers; `None` is a provider that is off.
#[derive(Debug, Clone, Default)]
pub struct SocialConfig {
    pub google: Option<ProviderConfig>,
    pub kakao: Option<ProviderConfig>,
    pub naver: Option<ProviderConfig>,
}

impl SocialConfig {
    pub fn provider(&self, provider: Provider) -> Option<&ProviderConfig> {
        match provider {
            Provider::Google => self.google.as_ref(),
            Provider::Kakao => self.kakao.as_ref(),
            Provider::Naver => self.naver.as_ref(),
        }
    }
}

/// `[oauth]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SocialLayer {
    google: Option<ProviderLayer>,
    kakao: Option<ProviderLayer>,
    naver: Option<ProviderLayer>,
}

/// `[oauth.<provider>]` in the TOML file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderLayer {
    client_id: Option<String>,
    client_secret: Option<Secret>,
    auth_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    issuer: Option<String>,
    jwks_url: Option<String>,
}

/// Resolves every provider: environment over file over the provider's real endpoints.
pub(super) fn resolve(file: Option<&SocialLayer>, env: &HashMap<String, String>) -> Result<SocialConfig, ConfigError> {
    let one = |provider: Provider| {
        let layer = file.and_then(|f| match provider {
            Provider::Google => f.google.clone(),
            Provider::Kakao => f.kakao.clone(),
            Provider::Naver => f.naver.clone(),
        });
        resolve_provider(provider, layer.unwrap_or_default(), env)
    };
    Ok(SocialConfig { google: one(Provider::Google)?, kakao: one(Provider::Kakao)?, naver: one(Provider::Naver)? })
}

fn resolve_provider(
    provider: Provider,
    file: ProviderLayer,
    env: &HashMap<String, String>,
) -> Result<Option<ProviderConfig>, ConfigError> {
    let upper = provider.name().to_uppercase();
    let var = |key: &str| {
        [format!("MINGIZUK_OAUTH_{upper}_{key}"), format!("MINGIZUK_{upper}_{key}")]
            .iter()
            .find_map(|name| env.get(name).filter(|v| !v.is_empty()).cloned())
    };
    let client_id = var("CLIENT_ID").or(file.client_id);
    let client_secret = var("CLIENT_SECRET").map(Secret::new).or(file.client_secret);
    let (client_id, client_secret) = match (client_id, client_secret) {
        (Some(id), Some(secret)) => (id, secret),
        (None, None) => return Ok(None),
        _ => {
            return Err(ConfigError::Invalid {
                key: provider_key(provider),
                message: "client_id and client_secret are set together or not at all".into(),
            });
        }
    };
    let [auth, token, userinfo] = provider.default_endpoints();
    let url = |value: Option<String>, default: &str| {
        let text = value.unwrap_or_else(|| default.to_owned());
        Url::parse(&text)
            .map_err(|e| ConfigError::Invalid { key: provider_key(provider), message: format!("{text:?}: {e}") })
    };
    let oidc = provider.default_oidc();
    let issuer = var("ISSUER").or(file.issuer).or_else(|| oidc.map(|(issuer, _)| issuer.to_owned()));
    let jwks_url = match var("JWKS_URL").or(file.jwks_url).or_else(|| oidc.map(|(_, jwks)| jwks.to_owned())) {
        Some(text) => Some(url(Some(text), "")?),
        None => None,
    };
    Ok(Some(ProviderConfig {
        client_id,
        client_secret,
        auth_url: url(var("AUTH_URL").or(file.auth_url), auth)?,
        token_url: url(var("TOKEN_URL").or(file.token_url), token)?,
        userinfo_url: url(var("USERINFO_URL").or(file.userinfo_url), userinfo)?,
        issuer,
        jwks_url,
    }))
}

fn provider_key(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => "oauth.google",
        Provider::Kakao => "oauth.kakao",
        Provider::Naver => "oauth.naver",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_provider_is_on_with_an_id_and_a_secret_and_defaults_to_its_real_endpoints() {
        let social = resolve(
            None,
            &env(&[("MINGIZUK_GOOGLE_CLIENT_ID", "g-id"), ("MINGIZUK_OAUTH_GOOGLE_CLIENT_SECRET", "g-secret")]),
        )
        .expect("resolve");
        let google = social.provider(Provider::Google).expect("google is on");
        assert_eq!(google.client_id, "g-id");
        assert_eq!(google.token_url.as_str(), "https://oauth2.googleapis.com/token");
        assert_eq!(google.issuer.as_deref(), Some("https://accounts.google.com"));
        assert!(social.kakao.is_none() && social.naver.is_none());
        assert!(!format!("{social:?}").contains("g-secret"));
    }

    #[test]
    fn the_toml_file_configures_a_provider_and_the_environment_overrides_it() {
        let file = r#"
            deep_link = "mingizuk-dev://signed-in"
            [oauth.kakao]
            client_id = "file-id"
            client_secret = "file-secret"
            token_url = "http://127.0.0.1:9999/token"
        "#;
        let config = super::super::Config::from_sources(
            Some((std::path::Path::new("mingizuk.toml"), file)),
            &env(&[("MINGIZUK_OAUTH_KAKAO_CLIENT_ID", "env-id")]),
        )
        .expect("configuration");
        let kakao = config.social.provider(Provider::Kakao).expect("kakao is on");
        assert_eq!(kakao.client_id, "env-id");
        assert_eq!(kakao.client_secret.expose(), "file-secret");
        assert_eq!(kakao.token_url.as_str(), "http://127.0.0.1:9999/token");
        assert_eq!(kakao.auth_url.as_str(), "https://kauth.kakao.com/oauth/authorize");
        assert_eq!(config.deep_link, "mingizuk-dev://signed-in");
        assert!(config.social.google.is_none());
    }

    #[test]
    fn a_half_configured_provider_or_a_bad_url_is_refused() {
        let half = resolve(None, &env(&[("MINGIZUK_KAKAO_CLIENT_ID", "k")]));
        assert!(matches!(half, Err(ConfigError::Invalid { key: "oauth.kakao", .. })));
        let bad = resolve(
            None,
            &env(&[
                ("MINGIZUK_NAVER_CLIENT_ID", "n"),
                ("MINGIZUK_NAVER_CLIENT_SECRET", "s"),
                ("MINGIZUK_NAVER_TOKEN_URL", "not a url"),
            ]),
        );
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "oauth.naver", .. })));
    }
}
