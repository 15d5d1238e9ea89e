//! Signing out and removing the device's data takes the account's meetup and chat cache with it,
//! and so waits for the writes queued there (a comment written offline) as it waits for unsynced
//! records: refused with `unsynced_changes` until the user agrees to lose them (PRODUCT.md §1).

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, SecondsFormat, Utc};
use common::until;
use mingizuk_app_lib::events;
use mingizuk_tests::{Backend, TestDb, TestServer};
use serde_json::json;
use tauri::async_runtime::block_on;

/// The account's meetup cache files in the device's data folder.
fn social_caches(dir: &std::path::Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|name| name.starts_with("social-") && name.ends_with(".sqlite")).collect()
}

#[test]
fn removing_the_device_s_data_waits_for_queued_meetup_writes_and_takes_the_meetup_cache_with_it() {
    let db = block_on(TestDb::new(Backend::Sqlite));
    let server = block_on(TestServer::start(&db));
    let device = common::device_with(&server.url, events::nowhere());
    device
        .ok("sign_up", json!({ "email": "wipe@mingizuk.test", "password": "stretch every day", "nickname": "지우개" }));
    until("the device is up to date", || device.ok("sync_status", json!({}))["phase"] == "up_to_date");
    let starts = Utc::now() + Duration::days(1);
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let meetup = json!({
        "title": "한강 아침 스트레칭", "contents": "가볍게!", "starts_at": at(starts),
        "ends_at": at(starts + Duration::hours(1)), "member_limit": null, "image_id": null,
        "location": { "place_name": "여의도 한강공원", "address": "서울특별시 영등포구 여의동로 330", "lat": 37.5284, "lng": 126.9327 }
    });
    device.ok("create_meetup", json!({ "meetup": meetup }));
    let outbox_empty = || device.ok("outbox", json!({})).as_array().unwrap().is_empty();
    until("the meetup is written", outbox_empty);
    let id = device.ok("my_meetups", json!({ "role": "host" }))[0]["id"].as_i64().unwrap();

    // The server goes away; a comment waits in the outbox. The records themselves are all synced.
    block_on(server.stop());
    device.ok("comment", json!({ "id": id, "text": "우산 챙기세요" }));
    let refused = device.call("sign_out", json!({ "keepLocal": false })).unwrap_err();
    assert_eq!(refused["code"], "unsynced_changes", "{refused}");
    assert!(device.ok("account", json!({}))["user"].is_object(), "still signed in");
    assert_eq!(device.ok("outbox", json!({})).as_array().unwrap().len(), 1, "the comment still waits");
    assert_eq!(social_caches(device.dir.path()).len(), 1);

    device.ok("sign_out", json!({ "keepLocal": false, "discardUnsynced": true }));
    assert!(device.ok("account", json!({}))["user"].is_null());
    assert_eq!(social_caches(device.dir.path()), Vec::<String>::new(), "the meetup cache went with the data");
    block_on(db.drop_database());
}
