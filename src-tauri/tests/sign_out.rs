//! Signing out and removing the device's data takes the account's meetup and chat cache with it,
//! and so waits for the writes queued there (a comment written offline) as it waits for unsynced
//! records: refused with `unsynced_changes` until the user agrees to lose them (PRODUCT.md §1).

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use serde_json::json;
use tauri::async_runtime::block_on;

/// The account's meetup cache files in the device's data folder.
fn social_caches(dir: &std::path::Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|name| name.starts_with("social-") && name.ends_with(".sqlite")).collect()
}

#[test]
fn removing_the_device_s_data_waits_for_queued_meetup_writes_and_takes_the_meetup_cache_with_it() {
    let (db, server, device) = common::online();
    device.sign_up("wipe@mingizuk.test", "지우개");
    let meetup = common::meetup("한강 아침 스트레칭", Utc::now() + Duration::days(1));
    device.ok("create_meetup", json!({ "meetup": meetup }));
    device.until_outbox_empty("the meetup is written");
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
