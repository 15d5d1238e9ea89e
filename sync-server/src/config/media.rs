//! Configuration of image uploads and place search (issue 4): where images are kept, how large
//! and how many per day, and which geocoder place search asks. Keys come from the TOML file
//! (`[media]`, `[geocoder]`) or the environment (`MINGIZUK_MEDIA_*`, `MINGIZUK_GEOCODER_*`); the
//! Kakao key is a `Secret`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Secret};

/// The largest image `POST /v1/media` accepts (the route's own body limit).
pub const DEFAULT_MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// How many images one account may upload in 24 hours.
pub const DEFAULT_IMAGE_UPLOADS_PER_DAY: u32 = 50;
/// Kakao Local's keyword search.
pub const DEFAULT_KAKAO_URL: &str = "https://dapi.kakao.com/v2/local/search/keyword.json";
/// OpenStreetMap's public Nominatim; its usage policy asks for an identifying User-Agent.
pub const DEFAULT_NOMINATIM_URL: &str = "https://nominatim.openstreetmap.org";
pub const DEFAULT_GEOCODER_USER_AGENT: &str = concat!("mingizuk-server/", env!("CARGO_PKG_VERSION"));
pub const DEFAULT_GEOCODER_TIMEOUT: Duration = Duration::from_secs(5);

/// Image uploads, resolved.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The folder images are kept in, one file per image named by its id.
    pub dir: PathBuf,
    pub max_bytes: usize,
    pub uploads_per_day: u32,
}

/// Place search, resolved: Kakao Local when `kakao_key` is set, the Nominatim-compatible search otherwise.
#[derive(Debug, Clone)]
pub struct GeocoderConfig {
    pub kakao_url: String,
    pub kakao_key: Option<Secret>,
    /// The base URL; `/search` is appended.
    pub nominatim_url: String,
    pub user_agent: String,
    pub timeout: Duration,
}

/// `[media]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MediaLayer {
    dir: Option<PathBuf>,
    max_bytes: Option<usize>,
    uploads_per_day: Option<u32>,
}

/// `[geocoder]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GeocoderLayer {
    kakao_url: Option<String>,
    kakao_key: Option<Secret>,
    nominatim_url: Option<String>,
    user_agent: Option<String>,
    timeout_ms: Option<u64>,
}

fn text(env: &HashMap<String, String>, key: &str) -> Option<String> {
    env.get(key).filter(|v| !v.is_empty()).cloned()
}

fn number<T: FromStr>(env: &HashMap<String, String>, key: &'static str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    text(env, key)
        .map(|v| v.parse().map_err(|e: T::Err| ConfigError::Invalid { key, message: e.to_string() }))
        .transpose()
}

pub(super) fn resolve_media(
    file: Option<&MediaLayer>,
    env: &HashMap<String, String>,
    data_dir: &Path,
) -> Result<MediaConfig, ConfigError> {
    let empty = MediaLayer::default();
    let file = file.unwrap_or(&empty);
    let max_bytes = number(env, "MINGIZUK_MEDIA_MAX_BYTES")?.or(file.max_bytes).unwrap_or(DEFAULT_MAX_IMAGE_BYTES);
    if max_bytes == 0 {
        return Err(ConfigError::Invalid { key: "media.max_bytes", message: "must be above 0".into() });
    }
    Ok(MediaConfig {
        dir: text(env, "MINGIZUK_MEDIA_DIR")
            .map(PathBuf::from)
            .or_else(|| file.dir.clone())
            .unwrap_or_else(|| data_dir.join("media")),
        max_bytes,
        uploads_per_day: number(env, "MINGIZUK_MEDIA_UPLOADS_PER_DAY")?
            .or(file.uploads_per_day)
            .unwrap_or(DEFAULT_IMAGE_UPLOADS_PER_DAY),
    })
}

pub(super) fn resolve_geocoder(
    file: Option<&GeocoderLayer>,
    env: &HashMap<String, String>,
) -> Result<GeocoderConfig, ConfigError> {
    let empty = GeocoderLayer::default();
    let file = file.unwrap_or(&empty);
    let timeout_ms = number(env, "MINGIZUK_GEOCODER_TIMEOUT_MS")?.or(file.timeout_ms);
    Ok(GeocoderConfig {
        kakao_url: text(env, "MINGIZUK_GEOCODER_KAKAO_URL")
            .or_else(|| file.kakao_url.clone())
            .unwrap_or_else(|| DEFAULT_KAKAO_URL.to_owned()),
        kakao_key: text(env, "MINGIZUK_GEOCODER_KAKAO_KEY").map(Secret::new).or_else(|| file.kakao_key.clone()),
        nominatim_url: text(env, "MINGIZUK_GEOCODER_NOMINATIM_URL")
            .or_else(|| file.nominatim_url.clone())
            .unwrap_or_else(|| DEFAULT_NOMINATIM_URL.to_owned()),
        user_agent: text(env, "MINGIZUK_GEOCODER_USER_AGENT")
            .or_else(|| file.user_agent.clone())
            .unwrap_or_else(|| DEFAULT_GEOCODER_USER_AGENT.to_owned()),
        timeout: timeout_ms.map_or(DEFAULT_GEOCODER_TIMEOUT, Duration::from_millis),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn images_live_under_the_data_folder_unless_configured() {
        let media = resolve_media(None, &HashMap::new(), Path::new("/srv/data")).expect("defaults");
        assert_eq!(media.dir, PathBuf::from("/srv/data/media"));
        assert_eq!(media.max_bytes, DEFAULT_MAX_IMAGE_BYTES);
        let media = resolve_media(None, &env(&[("MINGIZUK_MEDIA_DIR", "/img")]), Path::new("/srv")).expect("env");
        assert_eq!(media.dir, PathBuf::from("/img"));
        let bad = resolve_media(None, &env(&[("MINGIZUK_MEDIA_MAX_BYTES", "lots")]), Path::new("/srv"));
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "MINGIZUK_MEDIA_MAX_BYTES", .. })));
    }

    #[test]
    fn the_kakao_key_is_optional_and_never_shown() {
        let geocoder = resolve_geocoder(None, &HashMap::new()).expect("defaults");
        assert!(geocoder.kakao_key.is_none());
        assert_eq!(geocoder.nominatim_url, DEFAULT_NOMINATIM_URL);
        let geocoder = resolve_geocoder(None, &env(&[("MINGIZUK_GEOCODER_KAKAO_KEY", "kakao-rest-key")])).expect("env");
        assert_eq!(geocoder.kakao_key.as_ref().map(Secret::expose), Some("kakao-rest-key"));
        assert!(!format!("{geocoder:?}").contains("kakao-rest-key"));
    }
}
