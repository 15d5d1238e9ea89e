//! The two geocoders place search speaks: Kakao Local's keyword search and a Nominatim-compatible
//! `/search`. Each answer is read in its own shape and mapped to [`Place`]. The Kakao key travels
//! in a header only and never reaches a log line or an error.

use serde::Deserialize;

use super::Place;
use crate::config::GeocoderConfig;

/// How many places one search returns at most.
pub const MAX_RESULTS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum GeocoderError {
    #[error("the geocoder could not be reached: {0}")]
    Unreachable(reqwest::Error),
    #[error("the geocoder answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the geocoder's answer could not be read: {0}")]
    Unreadable(reqwest::Error),
    #[error("the geocoder did not answer in time")]
    TimedOut,
}

/// Asks the configured geocoder: Kakao when a key is configured, Nominatim otherwise.
pub async fn search(http: &reqwest::Client, config: &GeocoderConfig, q: &str) -> Result<Vec<Place>, GeocoderError> {
    let size = MAX_RESULTS.to_string();
    let request = match &config.kakao_key {
        Some(key) => http
            .get(&config.kakao_url)
            .query(&[("query", q), ("size", size.as_str())])
            .header(reqwest::header::AUTHORIZATION, format!("KakaoAK {}", key.expose())),
        None => http.get(format!("{}/search", config.nominatim_url.trim_end_matches('/'))).query(&[
            ("format", "jsonv2"),
            ("q", q),
            ("addressdetails", "1"),
            ("accept-language", "ko"),
            ("countrycodes", "kr"),
            ("limit", size.as_str()),
        ]),
    };
    let response = request
        .header(reqwest::header::USER_AGENT, &config.user_agent)
        .send()
        .await
        .map_err(|e| GeocoderError::Unreachable(e.without_url()))?;
    if !response.status().is_success() {
        return Err(GeocoderError::Status(response.status()));
    }
    let places = if config.kakao_key.is_some() {
        let answer: KakaoAnswer = response.json().await.map_err(|e| GeocoderError::Unreadable(e.without_url()))?;
        answer.documents.into_iter().filter_map(KakaoPlace::into_place).collect()
    } else {
        let answer: Vec<NominatimPlace> =
            response.json().await.map_err(|e| GeocoderError::Unreadable(e.without_url()))?;
        answer.into_iter().filter_map(NominatimPlace::into_place).collect::<Vec<_>>()
    };
    Ok(places.into_iter().take(MAX_RESULTS).collect())
}

#[derive(Deserialize)]
struct KakaoAnswer {
    documents: Vec<KakaoPlace>,
}

/// One document of Kakao's keyword search; `x` is the longitude and `y` the latitude, as text.
#[derive(Deserialize)]
struct KakaoPlace {
    place_name: String,
    #[serde(default)]
    address_name: String,
    #[serde(default)]
    road_address_name: String,
    x: String,
    y: String,
}

impl KakaoPlace {
    fn into_place(self) -> Option<Place> {
        let lng = self.x.parse().ok()?;
        let lat = self.y.parse().ok()?;
        let address = if self.road_address_name.is_empty() { self.address_name } else { self.road_address_name };
        // The region of the address a meetup will be written with: the server derives it from
        // that one, so the app can tell before writing whether it will be taken.
        let region = mingizuk_core::region::region_of(&address);
        Some(Place { name: self.place_name, address, lat, lng, region })
    }
}

/// One result of a Nominatim `/search?format=jsonv2&addressdetails=1`.
#[derive(Deserialize)]
struct NominatimPlace {
    lat: String,
    lon: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    address: NominatimAddress,
}

/// The address parts a Korean address is written from, largest first.
#[derive(Deserialize, Default)]
struct NominatimAddress {
    province: Option<String>,
    state: Option<String>,
    city: Option<String>,
    county: Option<String>,
    borough: Option<String>,
    road: Option<String>,
    house_number: Option<String>,
}

impl NominatimAddress {
    /// "경기도 성남시 분당구 판교역로 166": the parts in Korean order, largest first.
    fn korean(&self) -> String {
        [&self.province, &self.state, &self.city, &self.county, &self.borough, &self.road, &self.house_number]
            .into_iter()
            .flatten()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl NominatimPlace {
    fn into_place(self) -> Option<Place> {
        let lat = self.lat.parse().ok()?;
        let lng = self.lon.parse().ok()?;
        let address = self.address.korean();
        let address = if address.is_empty() { self.display_name.clone() } else { address };
        let name = match self.name.trim() {
            "" => self.display_name.split(',').next().unwrap_or_default().trim().to_owned(),
            name => name.to_owned(),
        };
        let region = mingizuk_core::region::region_of(&address);
        Some(Place { name, address, lat, lng, region })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kakao_document_prefers_the_road_address_and_reads_x_as_longitude() {
        let place = KakaoPlace {
            place_name: "여의나루역 5호선".into(),
            address_name: "서울 영등포구 여의도동 85-1".into(),
            road_address_name: "서울 영등포구 여의동로 343".into(),
            x: "126.9326".into(),
            y: "37.5271".into(),
        }
        .into_place()
        .expect("place");
        assert_eq!(place.address, "서울 영등포구 여의동로 343");
        assert_eq!((place.lat, place.lng), (37.5271, 126.9326));
        assert_eq!(place.region.as_deref(), Some("서울특별시 영등포구"));
    }

    #[test]
    fn a_kakao_result_s_region_is_the_one_of_the_address_a_meetup_is_written_with() {
        let place = KakaoPlace {
            place_name: "여의나루역".into(),
            address_name: "서울 여의도동 85-1".into(),
            road_address_name: "서울 영등포구 여의동로 343".into(),
            x: "126.9326".into(),
            y: "37.5271".into(),
        }
        .into_place()
        .expect("place");
        assert_eq!(place.region.as_deref(), Some("서울특별시 영등포구"));
    }

    #[test]
    fn a_nominatim_result_is_written_in_korean_order() {
        let address = NominatimAddress {
            province: Some("경기도".into()),
            city: Some("성남시".into()),
            borough: Some("분당구".into()),
            road: Some("판교역로".into()),
            house_number: Some("166".into()),
            ..NominatimAddress::default()
        };
        assert_eq!(address.korean(), "경기도 성남시 분당구 판교역로 166");
        let place = NominatimPlace {
            lat: "37.39".into(),
            lon: "127.11".into(),
            name: String::new(),
            display_name: "카카오 판교아지트, 166, 판교역로".into(),
            address,
        }
        .into_place()
        .expect("place");
        assert_eq!(place.name, "카카오 판교아지트");
        assert_eq!(place.region.as_deref(), Some("경기도 성남시"));
    }
}
