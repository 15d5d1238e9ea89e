//! A fake geocoder for the place-search tests, served with axum on 127.0.0.1:0. It answers Kakao
//! Local's keyword search (checking the `KakaoAK` key) and a Nominatim `/search` (checking the
//! parameters and that a User-Agent is sent), each in its own shape. A knob makes it fail, answer
//! too slowly or answer nonsense; it counts the searches it was asked and keeps the last query.
// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub const KAKAO_KEY: &str = "fake-kakao-rest-key-0123456789";
pub const KAKAO_PATH: &str = "/v2/local/search/keyword.json";

/// How the fake answers the next searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Answer,
    Fail,
    Slow,
    Nonsense,
}

#[derive(Debug)]
struct Inner {
    behaviour: Behaviour,
    searches: usize,
    last_query: HashMap<String, String>,
    last_user_agent: Option<String>,
}

#[derive(Clone)]
pub struct FakeGeocoder {
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGeocoder {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour: Behaviour::Answer,
            searches: 0,
            last_query: HashMap::new(),
            last_user_agent: None,
        }));
        let app =
            Router::new().route(KAKAO_PATH, get(kakao)).route("/search", get(nominatim)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake geocoder");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fake geocoder") });
        Self { base_url, inner }
    }

    pub fn behave(&self, behaviour: Behaviour) {
        self.inner.lock().expect("lock").behaviour = behaviour;
    }

    pub fn searches(&self) -> usize {
        self.inner.lock().expect("lock").searches
    }

    pub fn last_query(&self) -> HashMap<String, String> {
        self.inner.lock().expect("lock").last_query.clone()
    }

    pub fn last_user_agent(&self) -> Option<String> {
        self.inner.lock().expect("lock").last_user_agent.clone()
    }
}

type Shared = Arc<Mutex<Inner>>;

/// Records the search and says how to answer it.
async fn note(inner: &Shared, query: HashMap<String, String>, headers: &HeaderMap) -> Behaviour {
    let behaviour = {
        let mut inner = inner.lock().expect("lock");
        inner.searches += 1;
        inner.last_query = query;
        inner.last_user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        inner.behaviour
    };
    if behaviour == Behaviour::Slow {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    behaviour
}

fn broken(behaviour: Behaviour) -> Option<Response> {
    match behaviour {
        Behaviour::Fail => Some((StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response()),
        Behaviour::Nonsense => Some((StatusCode::OK, "<html>not json</html>").into_response()),
        Behaviour::Answer | Behaviour::Slow => None,
    }
}

async fn kakao(
    State(inner): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let key_ok = headers.get(header::AUTHORIZATION).is_some_and(|v| v == format!("KakaoAK {KAKAO_KEY}").as_str());
    let behaviour = note(&inner, query, &headers).await;
    if !key_ok {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "errorType": "AccessDeniedError" }))).into_response();
    }
    if let Some(response) = broken(behaviour) {
        return response;
    }
    Json(json!({
        "meta": { "total_count": 2, "pageable_count": 2, "is_end": true },
        "documents": [
            {
                "place_name": "여의나루역 5호선", "address_name": "서울 영등포구 여의도동 85-1",
                "road_address_name": "서울 영등포구 여의동로 343", "x": "126.932601", "y": "37.527098",
                "id": "21160618", "category_name": "교통,수송 > 지하철,전철"
            },
            {
                "place_name": "판교 카카오 아지트", "address_name": "경기 성남시 분당구 백현동 532",
                "road_address_name": "", "x": "127.110515", "y": "37.395283", "id": "1"
            }
        ]
    }))
    .into_response()
}

async fn nominatim(
    State(inner): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let behaviour = note(&inner, query, &headers).await;
    if let Some(response) = broken(behaviour) {
        return response;
    }
    Json(json!([
        {
            "place_id": 1, "lat": "37.5270980", "lon": "126.9326010", "name": "여의나루",
            "display_name": "여의나루, 여의동로, 여의도동, 영등포구, 서울특별시, 07335, 대한민국",
            "address": { "road": "여의동로", "quarter": "여의도동", "borough": "영등포구", "city": "서울특별시",
                         "postcode": "07335", "country": "대한민국", "country_code": "kr" }
        },
        {
            "place_id": 2, "lat": "37.8813", "lon": "127.7298", "name": "",
            "display_name": "춘천역, 공지로, 춘천시, 강원도, 대한민국",
            "address": { "road": "공지로", "city": "춘천시", "province": "강원도", "country_code": "kr" }
        }
    ]))
    .into_response()
}
