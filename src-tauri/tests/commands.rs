//! The shell's commands driven as the UI drives them: over IPC, on Tauri's mock runtime (no
//! display needed), over a real engine in a temporary folder.

#![allow(clippy::unwrap_used)]

mod common;

use common::device;
use mingizuk_client::core::catalog::PRESETS;
use serde_json::{Value, json};
use tauri::async_runtime::block_on;
use tauri::ipc::InvokeBody;

#[test]
fn a_new_device_draws_a_character_plays_its_main_routine_and_home_shows_the_day() {
    let device = device();
    let home = device.ok("home", json!({}));
    assert_eq!(home["character"], Value::Null);
    assert_eq!(home["main"], Value::Null);

    let character = device.ok("draw_character", json!({}));
    assert!(["mingi", "muneo", "mongsil"].contains(&character.as_str().unwrap()), "{character}");

    let preset = PRESETS[0].id.to_string();
    device.ok("set_main", json!({ "id": preset }));
    let main = device.ok("routine", json!({ "id": preset }));
    assert_eq!(main["is_main"], true);
    let entries = main["entries"].as_array().unwrap();
    let mut last = Value::Null;
    for entry in entries {
        last = device.ok("complete_action", json!({ "routine": preset, "entry": entry["id"] }));
    }
    // 5 actions: 5 × 100 + a bonus of 20 × 5 with the last one.
    assert_eq!(last, json!({ "exp_gained": 200, "routine_completed": true }));

    let home = device.ok("home", json!({}));
    assert_eq!(home["today_exp"], 600);
    assert_eq!(home["character"]["character"], character);
    assert_eq!(home["character"]["exp"], 600);
    assert_eq!(home["main"]["complete"], true);
    let today = home["today"].as_str().unwrap();
    let day = home["tracker"]["days"].as_array().unwrap().iter().find(|d| d["date"] == today).unwrap();
    assert_eq!(day["marked"], true);
    assert_eq!(day["actions"], 5);

    device.ok("restart_cycle", json!({ "routine": preset }));
    assert_eq!(device.ok("routine", json!({ "id": preset }))["done_count"], 0);
}

#[test]
fn a_routine_of_six_actions_or_a_name_of_31_characters_is_refused_with_its_code() {
    let device = device();
    device.ok("draw_character", json!({}));
    let picks = |n: usize| -> Value {
        let catalog = device.ok("catalog", json!({}));
        catalog.as_array().unwrap()[..n].iter().map(|a| json!({ "action": a["id"], "count": 10 })).collect()
    };

    let six = device.call("create_routine", json!({ "name": "여섯 동작", "picks": picks(6) })).unwrap_err();
    assert_eq!(six["code"], "routine_too_many_actions");
    let long = device.call("create_routine", json!({ "name": "가".repeat(31), "picks": picks(2) })).unwrap_err();
    assert_eq!(long["code"], "routine_name_too_long");

    let id = device.ok("create_routine", json!({ "name": "가".repeat(30), "picks": picks(5) }));
    let routines = device.ok("routines", json!({}));
    let names: Vec<&str> = routines.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "two presets first, then the new one: {names:?}");
    assert_eq!(routines[2]["id"], id);
}

#[test]
fn a_failure_reaches_the_ui_as_code_and_message_only() {
    let device = device();
    let error = device.call("routine", json!({ "id": "00000000-0000-4000-8000-000000000000" })).unwrap_err();
    let keys: Vec<&String> = error.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["code", "message"]);
    assert_eq!(error["code"], "routine_not_found");
    assert!(error["message"].is_string());
}

#[test]
fn meetup_commands_need_an_account() {
    let device = device();
    let error = device.call("meetups", json!({ "sort": "new", "region": null, "cursor": null })).unwrap_err();
    assert_eq!(error["code"], "signed_out");
    assert_eq!(device.ok("account", json!({})), json!({ "user": null, "server_url": "http://127.0.0.1:9" }));
}

#[test]
fn a_meetup_photo_goes_as_raw_bytes_with_its_type_in_a_header_and_nothing_else_is_taken() {
    let (db, server, device) = common::online();
    device
        .ok("sign_up", json!({ "email": "photo@mingizuk.test", "password": "stretch every day", "nickname": "사진" }));
    let png = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("icons/32x32.png")).unwrap();
    let png_type = [("x-mingizuk-content-type", "image/png")];

    let uploaded = device.call_with("upload_image", InvokeBody::Raw(png.clone()), &png_type).unwrap();
    let url = format!("{}/v1/media/{}", server.url, uploaded["id"].as_str().unwrap());
    let served = block_on(async { reqwest::get(&url).await.unwrap().bytes().await.unwrap() });
    assert_eq!(served.as_ref(), png.as_slice(), "the server serves the very bytes sent");
    // Android's IPC (and a blocked custom protocol) turns the bytes into a JSON array of numbers.
    let numbers = InvokeBody::Json(json!(png));
    assert!(device.call_with("upload_image", numbers, &png_type).unwrap()["id"].is_string());

    let refusals = [
        ("no type", InvokeBody::Raw(png.clone()), &[][..]),
        ("an older front end's JSON", InvokeBody::Json(json!({ "bytes": [1, 2, 3], "contentType": "image/png" })), &[]),
        (
            "a path on the device",
            InvokeBody::Json(json!({ "path": "/etc/hostname", "contentType": "image/png" })),
            &png_type,
        ),
        ("not bytes", InvokeBody::Json(json!([1, 256, -1])), &png_type),
    ];
    for (what, body, headers) in refusals {
        let refused = device.call_with("upload_image", body, headers).expect_err(what);
        assert_eq!((what, &refused["code"]), (what, &json!("invalid_input")), "{refused}");
    }
    block_on(server.stop());
    block_on(db.drop_database());
}

#[test]
fn settings_onboarding_and_the_reminder_are_kept() {
    let device = device();
    assert_eq!(
        device.ok("settings", json!({})),
        json!({ "language": "ko", "reminder_minutes": null, "onboarded": false })
    );
    device.ok("finish_onboarding", json!({}));
    device.ok("set_language", json!({ "language": "en" }));
    device.ok("set_reminder", json!({ "minutes": 540 }));
    assert_eq!(
        device.ok("settings", json!({})),
        json!({ "language": "en", "reminder_minutes": 540, "onboarded": true })
    );
    assert_eq!(device.call("set_reminder", json!({ "minutes": 1440 })).unwrap_err()["code"], "invalid_input");
}

#[test]
fn limits_and_the_catalog_come_from_core() {
    let device = device();
    let limits = device.ok("limits", json!({}));
    assert_eq!(limits["routine_name_max"], 30);
    assert_eq!(limits["routine_actions_max"], 5);
    assert_eq!(limits["message_max"], 250);
    let catalog = device.ok("catalog", json!({}));
    assert_eq!(catalog.as_array().unwrap().len(), 18);
    assert_eq!(catalog[0]["kind"], "stretching");
    assert_eq!(device.ok("tile_url", json!({})), "http://127.0.0.1:9/{z}/{x}/{y}.png");
    let week = device.ok("week_page", json!({ "week": null, "mode": "routines" }));
    assert_eq!(week["week"], 1);
}

#[test]
fn my_data_is_exported_to_new_files_and_imported_on_another_device_once() {
    let phone = device();
    phone.ok("draw_character", json!({}));
    let preset = PRESETS[1].id.to_string();
    let entry = phone.ok("routine", json!({ "id": preset }))["entries"][0]["id"].clone();
    phone.ok("complete_action", json!({ "routine": preset, "entry": entry }));

    let json_file = phone.ok("export_data", json!({ "format": "json" }))["path"].as_str().unwrap().to_owned();
    let csv_file = phone.ok("export_data", json!({ "format": "csv" }))["path"].as_str().unwrap().to_owned();
    let again = phone.ok("export_data", json!({ "format": "json" }))["path"].as_str().unwrap().to_owned();
    assert!(json_file.ends_with(".json") && csv_file.ends_with(".csv"), "{json_file} {csv_file}");
    assert_ne!(again, json_file, "an export never overwrites an earlier one");
    let csv = std::fs::read_to_string(&csv_file).unwrap();
    assert_eq!(csv.lines().count(), 2, "the header and the one action: {csv}");

    let laptop = device();
    let text = std::fs::read_to_string(&json_file).unwrap();
    let report = laptop.ok("import_data", json!({ "json": text }));
    assert_eq!(report, json!({ "routines": 0, "completions": 1, "draws": 1, "already_there": 2 }));
    assert_eq!(laptop.ok("stats", json!({})), phone.ok("stats", json!({})));
    let second = laptop.ok("import_data", json!({ "json": text }));
    assert_eq!(second["completions"], 0);

    // Refused with a reason and what it names, for the app to word in the user's language.
    let refused = laptop.call("import_data", json!({ "json": "{\"format\":\"mingizuk-export\",\"version\":9}" }));
    let refused = refused.unwrap_err();
    assert_eq!(refused["code"], "invalid_import");
    assert_eq!(refused["reason"], "newer_version");
    assert_eq!(refused["details"], json!({ "version": 9 }));
    let damaged = laptop.call("import_data", json!({ "json": text.replace("\"draws\"", "\"drawz\"") }));
    assert_eq!(damaged.unwrap_err()["reason"], "damaged");
    assert!(laptop.call("export_data", json!({ "format": "pdf" })).is_err());
}

#[test]
fn switching_the_main_routine_with_a_reset_is_one_command_that_does_both_or_neither() {
    let device = device();
    device.ok("draw_character", json!({}));
    let (basic, workout) = (PRESETS[0].id.to_string(), PRESETS[1].id.to_string());
    device.ok("set_main", json!({ "id": basic }));
    let entries = device.ok("routine", json!({ "id": basic }))["entries"].clone();
    for entry in &entries.as_array().unwrap()[..2] {
        device.ok("complete_action", json!({ "routine": basic, "entry": entry["id"] }));
    }
    let gone = device.ok("create_routine", json!({ "name": "플랭크만", "picks": [{ "action": "plank", "count": 3 }] }));
    device.ok("delete_routine", json!({ "id": gone }));

    let refused = device.call("switch_main", json!({ "id": gone, "reset": basic })).unwrap_err();
    assert_eq!(refused["code"], "routine_deleted");
    let old = device.ok("routine", json!({ "id": basic }));
    assert_eq!((&old["is_main"], &old["done_count"]), (&json!(true), &json!(2)), "nothing changed");

    device.ok("switch_main", json!({ "id": workout, "reset": basic }));
    let old = device.ok("routine", json!({ "id": basic }));
    assert_eq!((&old["is_main"], &old["done_count"], &old["cycle"]), (&json!(false), &json!(0), &json!(2)));
    assert_eq!(device.ok("home", json!({}))["main"]["id"], workout.as_str());
    device.ok("switch_main", json!({ "id": basic, "reset": null }));
    assert_eq!(device.ok("routine", json!({ "id": workout }))["cycle"], 1, "no reset asked, none done");
}

#[test]
fn removing_data_the_server_lacks_is_refused_until_the_user_agrees_to_discard_it() {
    let device = device();
    device.ok("draw_character", json!({}));
    let refused = device.call("sign_out", json!({ "keepLocal": false })).unwrap_err();
    assert_eq!(refused["code"], "unsynced_changes");
    assert!(device.ok("home", json!({}))["character"].is_object(), "the device keeps its data");
    device.ok("sign_out", json!({ "keepLocal": false, "discardUnsynced": true }));
    assert_eq!(device.ok("home", json!({}))["character"], Value::Null, "removed as asked");
    device.ok("sign_out", json!({ "keepLocal": true }));
}
