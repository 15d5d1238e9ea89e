//! The server's configuration, layered: built-in defaults, then the TOML file `MINGIZUK_CONFIG`
//! names, then `MINGIZUK_*` environment variables, each layer overriding the one before. Reading
//! the environment happens only in [`Config::load`]; everything else takes its sources as values so
//! tests never touch the process environment. Secrets never appear in `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod media;
mod proxies;
mod social;

pub use media::{DEFAULT_IMAGE_UPLOADS_PER_DAY, DEFAULT_MAX_IMAGE_BYTES, GeocoderConfig, MediaConfig};
pub use proxies::TrustedProxies;
pub use social::{DEFAULT_DEEP_LINK, Provider, ProviderConfig, SocialConfig};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const SQLITE_FILE_NAME: &str = "mingizuk.sqlite";
/// The largest request body any route accepts.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// A value that must never be logged: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A database URL; its `Debug` hides a password in `scheme://user:password@host`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_mysql(&self) -> bool {
        self.0.starts_with("mysql://")
    }

    /// The URL with any password replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else { return self.0.clone() };
        let Some((credentials, host)) = rest.rsplit_once('@') else { return self.0.clone() };
        match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// Where clients reach this server (used for redirects and `servers` in OpenAPI).
    pub public_url: Option<String>,
    /// The key that signs access tokens; the auth slice refuses to start without it.
    pub jwt_secret: Option<Secret>,
    pub max_body_bytes: usize,
    /// The social-login providers that are on, with their endpoints.
    pub social: SocialConfig,
    /// The app's deep link (`scheme://host`): with loopback `http://127.0.0.1:<port>/…` addresses,
    /// the only places a social login may send the app's one-time code.
    pub deep_link: String,
    /// Web origins (`scheme://host[:port]`) allowed to open WebSockets and call the API from a
    /// browser. Requests without an `Origin` header (native apps) are not affected.
    pub allowed_origins: Vec<String>,
    /// Image uploads: folder, size limit, daily quota.
    pub media: MediaConfig,
    /// The geocoder place search asks.
    pub geocoder: GeocoderConfig,
    /// Several instances: the Redis their chat rooms and documents fan out through (none: this
    /// instance alone).
    pub redis: Option<RedisConfig>,
    /// The reverse proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` names the client
    /// that throttles count by (`MINGIZUK_TRUSTED_PROXIES`, comma-separated; `trusted_proxies`, a
    /// list, in the file). None by default: the TCP peer is the client and the header is ignored.
    pub trusted_proxies: TrustedProxies,
}

/// Where the instances of one deployment meet: a Redis URL and the prefix of the pub/sub channels
/// they share.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: Secret,
    pub channel: String,
}

impl RedisConfig {
    /// The channel chat rooms fan out on.
    pub fn chat_channel(&self) -> String {
        format!("{}:chat", self.channel)
    }

    /// The channel documents' changes are announced on.
    pub fn documents_channel(&self) -> String {
        format!("{}:docs", self.channel)
    }
}

/// The prefix of the pub/sub channels unless `redis_channel` names another.
pub const DEFAULT_REDIS_CHANNEL: &str = "mingizuk";

/// One layer as written in the TOML file: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    jwt_secret: Option<Secret>,
    max_body_bytes: Option<usize>,
    allowed_origins: Option<Vec<String>>,
    deep_link: Option<String>,
    oauth: Option<social::SocialLayer>,
    media: Option<media::MediaLayer>,
    geocoder: Option<media::GeocoderLayer>,
    redis_url: Option<Secret>,
    redis_channel: Option<String>,
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration file {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("invalid {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Reads the process environment and the file `MINGIZUK_CONFIG` names, if any.
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("MINGIZUK_")).collect();
        let file = match env.get("MINGIZUK_CONFIG") {
            Some(path) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                Some((path, text))
            }
            None => None,
        };
        Self::from_sources(file.as_ref().map(|(path, text)| (path.as_path(), text.as_str())), &env)
    }

    /// Resolves defaults ← `file` (its path, for messages, and its text) ← `env`.
    pub fn from_sources(file: Option<(&Path, &str)>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file_layer = match file {
            Some((path, text)) => toml::from_str::<Layer>(text)
                .map_err(|source| ConfigError::Parse { path: path.to_owned(), source: Box::new(source) })?,
            None => Layer::default(),
        };
        let var = |key: &str| env.get(key).filter(|v| !v.is_empty()).cloned();
        let max_body_bytes = match var("MINGIZUK_MAX_BODY_BYTES") {
            Some(text) => Some(text.parse().map_err(|e: std::num::ParseIntError| ConfigError::Invalid {
                key: "MINGIZUK_MAX_BODY_BYTES",
                message: e.to_string(),
            })?),
            None => file_layer.max_body_bytes,
        };
        let env_layer = Layer {
            listen: var("MINGIZUK_LISTEN"),
            data_dir: var("MINGIZUK_DATA_DIR").map(PathBuf::from),
            database_url: var("MINGIZUK_DATABASE_URL"),
            public_url: var("MINGIZUK_PUBLIC_URL"),
            jwt_secret: var("MINGIZUK_JWT_SECRET").map(Secret),
            max_body_bytes,
            deep_link: var("MINGIZUK_DEEP_LINK"),
            oauth: None,
            media: None,
            geocoder: None,
            redis_url: var("MINGIZUK_REDIS_URL").map(Secret),
            redis_channel: var("MINGIZUK_REDIS_CHANNEL"),
            // Read by `proxies::resolve`, which names the variable in its errors.
            trusted_proxies: None,
            allowed_origins: var("MINGIZUK_ALLOWED_ORIGINS")
                .map(|list| list.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect()),
        };

        let listen = env_layer.listen.or(file_layer.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen.parse().map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
            key: "listen",
            message: format!("{listen:?}: {e}"),
        })?;
        let data_dir = env_layer.data_dir.or(file_layer.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = env_layer
            .database_url
            .or(file_layer.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join(SQLITE_FILE_NAME).display()));
        let max_body_bytes = env_layer.max_body_bytes.or(file_layer.max_body_bytes).unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 {
            return Err(ConfigError::Invalid { key: "max_body_bytes", message: "must be above 0".into() });
        }
        let media = media::resolve_media(file_layer.media.as_ref(), env, &data_dir)?;
        let redis = match env_layer.redis_url.or(file_layer.redis_url) {
            Some(url) => {
                if let Err(e) = redis::Client::open(url.expose()) {
                    return Err(ConfigError::Invalid { key: "redis_url", message: e.to_string() });
                }
                let channel = env_layer
                    .redis_channel
                    .or(file_layer.redis_channel)
                    .unwrap_or_else(|| DEFAULT_REDIS_CHANNEL.to_owned());
                if channel.is_empty() {
                    return Err(ConfigError::Invalid { key: "redis_channel", message: "must not be empty".into() });
                }
                Some(RedisConfig { url, channel })
            }
            None => None,
        };
        Ok(Self {
            listen,
            data_dir,
            database_url: DatabaseUrl(database_url),
            public_url: env_layer.public_url.or(file_layer.public_url),
            jwt_secret: env_layer.jwt_secret.or(file_layer.jwt_secret),
            max_body_bytes,
            social: social::resolve(file_layer.oauth.as_ref(), env)?,
            deep_link: env_layer.deep_link.or(file_layer.deep_link).unwrap_or_else(|| DEFAULT_DEEP_LINK.to_owned()),
            allowed_origins: env_layer.allowed_origins.or(file_layer.allowed_origins).unwrap_or_default(),
            media,
            geocoder: media::resolve_geocoder(file_layer.geocoder.as_ref(), env)?,
            redis,
            trusted_proxies: proxies::resolve(file_layer.trusted_proxies.as_deref(), env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_start_on_a_local_sqlite_file() {
        let config = Config::from_sources(None, &HashMap::new()).expect("defaults");
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url.expose(), "sqlite://./data/mingizuk.sqlite");
        assert!(!config.database_url.is_mysql());
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let file = r#"
            listen = "0.0.0.0:9000"
            data_dir = "/var/lib/mingizuk"
            public_url = "https://file.example"
            jwt_secret = "from-file"
        "#;
        let config = Config::from_sources(
            Some((Path::new("mingizuk.toml"), file)),
            &env(&[("MINGIZUK_PUBLIC_URL", "https://env.example"), ("MINGIZUK_MAX_BODY_BYTES", "2048")]),
        )
        .expect("layers");
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.database_url.expose(), "sqlite:///var/lib/mingizuk/mingizuk.sqlite");
        assert_eq!(config.public_url.as_deref(), Some("https://env.example"));
        assert_eq!(config.jwt_secret.as_ref().map(Secret::expose), Some("from-file"));
        assert_eq!(config.max_body_bytes, 2048);
    }

    #[test]
    fn a_mysql_url_selects_mysql_and_secrets_stay_out_of_debug() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("MINGIZUK_DATABASE_URL", "mysql://app:hunter2@db:3306/mingizuk"),
                ("MINGIZUK_JWT_SECRET", "s3cret-key"),
            ]),
        )
        .expect("env");
        assert!(config.database_url.is_mysql());
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("s3cret-key"), "{debug}");
        assert!(debug.contains("mysql://app:***@db:3306/mingizuk"), "{debug}");
    }

    #[test]
    fn a_redis_url_joins_the_instances_on_a_channel_and_stays_out_of_debug() {
        assert!(Config::from_sources(None, &HashMap::new()).expect("defaults").redis.is_none());
        let config = Config::from_sources(
            Some((Path::new("m.toml"), "redis_channel = \"from-file\"")),
            &env(&[("MINGIZUK_REDIS_URL", "redis://:hunter2@cache:6379/0")]),
        )
        .expect("redis");
        let redis = config.redis.as_ref().expect("redis configured");
        assert_eq!((redis.url.expose(), redis.channel.as_str()), ("redis://:hunter2@cache:6379/0", "from-file"));
        assert!(!format!("{config:?}").contains("hunter2"));
        let bad = Config::from_sources(None, &env(&[("MINGIZUK_REDIS_URL", "http://cache")]));
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "redis_url", .. })), "{bad:?}");
    }

    #[test]
    fn trusted_proxies_are_a_list_in_the_file_and_nobody_by_default() {
        assert!(Config::from_sources(None, &HashMap::new()).expect("defaults").trusted_proxies.is_empty());
        let file = r#"trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]"#;
        let config = Config::from_sources(Some((Path::new("m.toml"), file)), &HashMap::new()).expect("file");
        assert!(config.trusted_proxies.contains([10, 1, 2, 3].into()));
        let bad = Config::from_sources(None, &env(&[("MINGIZUK_TRUSTED_PROXIES", "10.0.0.0/8, proxy")]));
        let message = bad.expect_err("a host name").to_string();
        assert!(message.contains("MINGIZUK_TRUSTED_PROXIES") && message.contains("\"proxy\""), "{message}");
    }

    #[test]
    fn unknown_keys_and_bad_addresses_are_refused() {
        let unknown = Config::from_sources(Some((Path::new("x.toml"), "lisen = \"x\"")), &HashMap::new());
        assert!(matches!(unknown, Err(ConfigError::Parse { .. })));
        let bad = Config::from_sources(None, &env(&[("MINGIZUK_LISTEN", "nowhere")]));
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "listen", .. })));
    }
}
