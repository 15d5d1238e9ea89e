//! Two devices of one account acting on its meetups at the same moment, through the real server on
//! 127.0.0.1:0 and a real HTTP client, on SQLite and on MariaDB: edits of different fields both
//! land, and deleting the account while another device deletes its meetups still deletes it.

#[macro_use]
mod common;
mod meetup_api;

use common::TestDb;
use meetup_api::{Api, meetup_body};
use reqwest::{Method, StatusCode};
use serde_json::json;

conformance!(
    edits_of_different_fields_from_two_devices_at_once_both_land,
    deleting_an_account_while_another_device_deletes_its_meetups_deletes_it_all,
);

async fn edits_of_different_fields_from_two_devices_at_once_both_land(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    for round in 0..5 {
        let id = api.create(&host, meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343")).await["id"].clone();
        let path = format!("/v1/meetups/{id}");
        let title = format!("새 제목 {round}");
        let (a, b) = tokio::join!(
            api.call(&host, Method::PATCH, &path, Some(json!({ "title": title }))),
            api.call(&host, Method::PATCH, &path, Some(json!({ "contents": "장소가 바뀌었어요" }))),
        );
        assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{} {}", a.1, b.1);
        let (_, now) = api.call(&host, Method::GET, &path, None).await;
        assert_eq!(
            (now["title"].as_str(), now["contents"].as_str()),
            (Some(title.as_str()), Some("장소가 바뀌었어요"))
        );
    }
}

/// The account's deletion deletes the meetups it hosts in its own transaction while the other
/// device deletes them one by one: whichever comes first, every meetup goes, none is only hidden.
async fn deleting_an_account_while_another_device_deletes_its_meetups_deletes_it_all(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let mut hosted = Vec::new();
    for n in 0..60 {
        let body = meetup_body(&format!("모임 {n}"), "서울특별시 영등포구 여의동로 343");
        hosted.push(api.create(&host, body).await["id"].clone());
    }
    let other_device = async {
        for id in &hosted {
            api.call(&host, Method::DELETE, &format!("/v1/meetups/{id}"), None).await;
        }
    };
    let ((status, body), ()) = tokio::join!(api.call(&host, Method::DELETE, "/v1/me", None), other_device);
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Restored, the account hosts nothing: every meetup was deleted, none is only hidden.
    db.storage().restore_user(host.sender.id).await.expect("restore");
    let (items, _) = api.page(&host, "/v1/me/meetups?role=host").await;
    assert!(items.is_empty(), "{items:?}");
}
