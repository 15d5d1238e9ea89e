//! Place search seen from the app: the server asks Kakao Local when a key is configured and a
//! Nominatim-compatible search otherwise (both played by a fake geocoder on loopback), answers
//! places with their meetup region, reuses recent answers, and reports a failing, slow or
//! nonsensical geocoder as 502 `geocoder_unavailable` without ever showing the key.

mod fake_geocoder;
mod signed_in;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use fake_geocoder::{Behaviour, FakeGeocoder, KAKAO_KEY, KAKAO_PATH};
use mingizuk_server::app;
use serde_json::{Value, json};
use signed_in::{Server, code, request, send, server};

async fn with_kakao(geocoder: &FakeGeocoder) -> Server {
    let kakao_url = format!("{}{KAKAO_PATH}", geocoder.base_url);
    server(&[
        ("MINGIZUK_GEOCODER_KAKAO_URL", &kakao_url),
        ("MINGIZUK_GEOCODER_KAKAO_KEY", KAKAO_KEY),
        ("MINGIZUK_GEOCODER_NOMINATIM_URL", "http://127.0.0.1:9/never-asked"),
        ("MINGIZUK_GEOCODER_TIMEOUT_MS", "500"),
    ])
    .await
}

async fn with_nominatim(geocoder: &FakeGeocoder) -> Server {
    server(&[("MINGIZUK_GEOCODER_NOMINATIM_URL", &geocoder.base_url), ("MINGIZUK_GEOCODER_TIMEOUT_MS", "500")]).await
}

/// A fake geocoder, a server asking it (as Kakao or as Nominatim) and a signed-in user's token.
async fn signed_in(kakao: bool) -> (FakeGeocoder, Server, String) {
    let geocoder = FakeGeocoder::start().await;
    let server = if kakao { with_kakao(&geocoder).await } else { with_nominatim(&geocoder).await };
    let (_, token) = server.sign_in("민지").await;
    (geocoder, server, token)
}

async fn search(server: &Server, token: Option<&str>, q: &str) -> (StatusCode, Value) {
    let uri = format!("/v1/places?q={}", urlencode(q));
    let (status, _, body) =
        send(app(server.state.clone()), request(Method::GET, &uri, token, &[], Body::empty())).await;
    (status, body)
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn with_a_kakao_key_places_come_from_kakao_with_their_region() {
    let (geocoder, server, token) = signed_in(true).await;
    let (status, places) = search(&server, Some(&token), "여의나루").await;
    assert_eq!(status, StatusCode::OK, "{places}");
    assert_eq!(
        places,
        json!([
            { "name": "여의나루역 5호선", "address": "서울 영등포구 여의동로 343",
              "lat": 37.527098, "lng": 126.932601, "region": "서울특별시 영등포구" },
            { "name": "판교 카카오 아지트", "address": "경기 성남시 분당구 백현동 532",
              "lat": 37.395283, "lng": 127.110515, "region": "경기도 성남시" }
        ])
    );
    assert_eq!(geocoder.last_query().get("query").map(String::as_str), Some("여의나루"));
}

#[tokio::test]
async fn without_a_kakao_key_the_nominatim_search_is_asked_in_korean() {
    let (geocoder, server, token) = signed_in(false).await;
    let (status, places) = search(&server, Some(&token), "여의나루").await;
    assert_eq!(status, StatusCode::OK, "{places}");
    assert_eq!(places[0]["name"], "여의나루");
    assert_eq!(places[0]["address"], "서울특별시 영등포구 여의동로");
    assert_eq!(places[0]["region"], "서울특별시 영등포구");
    assert_eq!((places[0]["lat"].as_f64(), places[0]["lng"].as_f64()), (Some(37.527098), Some(126.932601)));
    assert_eq!(places[1]["name"], "춘천역", "an unnamed result is named after its display name");
    assert_eq!(places[1]["region"], "강원특별자치도 춘천시");

    let query = geocoder.last_query();
    for (name, value) in [("format", "jsonv2"), ("q", "여의나루"), ("addressdetails", "1"), ("accept-language", "ko")]
    {
        assert_eq!(query.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert!(geocoder.last_user_agent().is_some_and(|ua| ua.starts_with("mingizuk-server/")));
}

#[tokio::test]
async fn a_repeated_search_is_answered_from_the_cache() {
    let (geocoder, server, token) = signed_in(true).await;
    let (_, first) = search(&server, Some(&token), "여의나루").await;
    let (_, again) = search(&server, Some(&token), " 여의나루 ").await;
    assert_eq!(first, again);
    assert_eq!(geocoder.searches(), 1);
    search(&server, Some(&token), "판교").await;
    assert_eq!(geocoder.searches(), 2);
}

#[tokio::test]
async fn a_failing_slow_or_nonsensical_geocoder_is_unavailable_and_the_key_never_shows() {
    let (geocoder, server, token) = signed_in(true).await;
    for (behaviour, q) in [(Behaviour::Fail, "실패"), (Behaviour::Slow, "느림"), (Behaviour::Nonsense, "엉터리")]
    {
        geocoder.behave(behaviour);
        let started = std::time::Instant::now();
        let (status, body) = search(&server, Some(&token), q).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{behaviour:?}: {body}");
        assert_eq!(code(&body), "geocoder_unavailable");
        assert!(!body.to_string().contains(KAKAO_KEY));
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{behaviour:?} waited for the timeout only");
    }
    geocoder.behave(Behaviour::Answer);
    let (status, _) = search(&server, Some(&token), "실패").await;
    assert_eq!(status, StatusCode::OK, "failures are not cached");
}

#[tokio::test]
async fn a_wrong_kakao_key_is_unavailable_too() {
    let geocoder = FakeGeocoder::start().await;
    let kakao_url = format!("{}{KAKAO_PATH}", geocoder.base_url);
    let server = server(&[("MINGIZUK_GEOCODER_KAKAO_URL", &kakao_url), ("MINGIZUK_GEOCODER_KAKAO_KEY", "wrong")]).await;
    let (_, token) = server.sign_in("민지").await;
    let (status, body) = search(&server, Some(&token), "여의나루").await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_GATEWAY, "geocoder_unavailable"));
}

#[tokio::test]
async fn the_query_is_1_to_100_characters_and_needs_a_signed_in_user() {
    let (geocoder, server, token) = signed_in(true).await;
    for q in ["", "   ", &"가".repeat(101)] {
        let (status, body) = search(&server, Some(&token), q).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "validation_failed"), "{q:?}");
    }
    let (status, _, body) =
        send(app(server.state.clone()), request(Method::GET, "/v1/places", Some(&token), &[], Body::empty())).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "validation_failed"), "no q at all");
    let (status, _) = search(&server, Some(&token), &"가".repeat(100)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = search(&server, None, "여의나루").await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    assert_eq!(geocoder.searches(), 1, "refused searches never reach the geocoder");
}
