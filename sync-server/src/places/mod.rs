//! Place search (DESIGN.md "The app": map and places): the app asks the server, the server asks the
//! configured geocoder, so API keys stay here. Answers are mapped to [`Place`] with the meetup
//! region (`mingizuk_core::region::region_of`) and kept in a small in-memory cache for a while,
//! since people type the same few names. `routes` holds `GET /v1/places`.

mod geocoder;
mod routes;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::GeocoderConfig;

pub use geocoder::{GeocoderError, MAX_RESULTS};
pub use mingizuk_core::region::{province_name, region_of};
pub use routes::router;

/// How long a search's answer is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(10 * 60);
/// How many searches the cache keeps at most.
pub const CACHE_ENTRIES: usize = 512;

/// A place as the app shows and a meetup stores it (one definition with the devices').
pub use mingizuk_core::place::Place;

/// The geocoder client with its cache; one per server.
pub struct PlaceSearch {
    http: reqwest::Client,
    config: GeocoderConfig,
    cache: Mutex<HashMap<String, (Instant, Vec<Place>)>>,
}

impl PlaceSearch {
    pub fn new(config: GeocoderConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            // Building fails only when the TLS backend cannot start; a client without our timeouts
            // is still better than none, and every request is bounded by the route's own timeout.
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { http, config, cache: Mutex::new(HashMap::new()) }
    }

    /// The places matching `q` (already validated), from the cache when it was asked lately.
    pub async fn search(&self, q: &str) -> Result<Vec<Place>, GeocoderError> {
        let key = q.trim().to_lowercase();
        if let Some(places) = self.cached(&key) {
            return Ok(places);
        }
        let places = tokio::time::timeout(self.config.timeout, geocoder::search(&self.http, &self.config, q.trim()))
            .await
            .map_err(|_elapsed| GeocoderError::TimedOut)??;
        self.keep(key, places.clone());
        Ok(places)
    }

    fn cached(&self, key: &str) -> Option<Vec<Place>> {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(key).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, places)| places.clone())
    }

    fn keep(&self, key: String, places: Vec<Place>) {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), places));
    }
}
