//! On a desktop, closing the window keeps the app running while there is something to remind of
//! (PRODUCT.md §9): a daily reminder set, or a joined meetup that has not started as last listed
//! on this device — read from the device, so that it holds offline and right after a start,
//! before the reminder task heard from the server.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use mingizuk_app_lib::background::something_to_remind_of;
use serde_json::json;
use tauri::async_runtime::block_on;

#[test]
fn a_daily_reminder_keeps_the_app_running_and_nothing_set_lets_it_quit() {
    let device = common::device();
    assert!(!block_on(something_to_remind_of(&device.shell())), "nothing to remind of: closing quits");
    device.ok("set_reminder", json!({ "minutes": 540 }));
    assert!(block_on(something_to_remind_of(&device.shell())));
    device.ok("set_reminder", json!({ "minutes": null }));
    assert!(!block_on(something_to_remind_of(&device.shell())));
}

#[test]
fn a_joined_meetup_yet_to_start_keeps_the_app_running_even_once_the_server_is_gone() {
    let (db, server, device) = common::online();
    device.sign_up("tray@mingizuk.test", "트레이");
    assert!(!block_on(something_to_remind_of(&device.shell())), "signed in, nothing joined");

    device.ok("create_meetup", json!({ "meetup": common::meetup("새벽 러닝", Utc::now() + Duration::days(1)) }));
    device.until_outbox_empty("the meetup is written");
    // Listed once (as the reminder task does when the app starts): the host is a member.
    assert_eq!(device.ok("my_meetups", json!({ "role": "host" })).as_array().unwrap().len(), 1);

    block_on(server.stop());
    assert!(
        block_on(something_to_remind_of(&device.shell())),
        "the meetup as last listed counts, with no daily reminder and no server to ask"
    );
    block_on(db.drop_database());
}
