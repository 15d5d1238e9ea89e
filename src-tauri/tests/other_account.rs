//! Signing in where another account kept its data: the sign-in commands fail with
//! `other_account_data` and leave the device signed out, `cancel_sign_in` gives the sign-in up,
//! `attach_other_account_data` merges the data into the account signing in.

#![allow(clippy::unwrap_used)]

mod common;

use common::until;
use serde_json::json;
use tauri::async_runtime::block_on;

#[test]
fn another_account_signing_in_is_asked_before_the_kept_data_joins_it() {
    let (db, _server, device) = common::online();
    device.sign_up("mingi@mingizuk.test", "밍기");
    device.ok("sign_out", json!({ "keepLocal": true }));

    let muneo = json!({ "email": "muneo@mingizuk.test", "password": common::PASSWORD, "nickname": "무너" });
    let refused = device.call("sign_up", muneo).unwrap_err();
    assert_eq!(refused["code"], "other_account_data", "{refused}");
    assert!(device.ok("account", json!({}))["user"].is_null(), "still signed out");
    device.ok("cancel_sign_in", json!({}));
    let nothing = device.call("attach_other_account_data", json!({})).unwrap_err();
    assert_eq!(nothing["code"], "signed_out", "{nothing}");

    let muneo = json!({ "email": "muneo@mingizuk.test", "password": common::PASSWORD });
    let refused = device.call("sign_in", muneo).unwrap_err();
    assert_eq!(refused["code"], "other_account_data", "{refused}");
    let user = device.ok("attach_other_account_data", json!({}));
    assert_eq!(user["email"], "muneo@mingizuk.test");
    assert_eq!(device.ok("account", json!({}))["user"]["email"], "muneo@mingizuk.test");
    until("the device is up to date", || device.ok("sync_status", json!({}))["phase"] == "up_to_date");
    block_on(db.drop_database());
}
