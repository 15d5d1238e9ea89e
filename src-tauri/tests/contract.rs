//! The contract between the shell and the UI, checked from both sides: this test drives every
//! command that answers with data (and waits for each kind of event) against a real sync server
//! on 127.0.0.1, and writes what came back to `app/contract/samples.generated.ts`, each answer
//! typed as the UI's own call declares it (`Awaited<ReturnType<typeof api.home>>`, …). Then
//! `npm run check:contract` (in `scripts/test.sh`, after this test) has the TypeScript compiler
//! check every sample against the app's types: a field renamed, missing, added or of another
//! type on either side fails it. The meetup form's own copies of the limits are pinned to the
//! rules' numbers the same way.

#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Duration as Days, SecondsFormat, Utc};
use common::{Device, until};
use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::limits;
use mingizuk_tests::{Backend, TestDb, TestServer};
use serde_json::{Value, json};

/// What the UI's module calls a command (the module's exported function), and the answer.
struct Sample {
    /// A TypeScript type: `Answer<typeof lib.home>`, `SocialEvent`, …
    ty: String,
    name: String,
    value: Value,
}

#[derive(Default)]
struct Samples(Vec<Sample>);

impl Samples {
    /// An answer of `app/src/lib/api.ts`'s `function`.
    fn lib(&mut self, function: &str, value: Value) {
        self.add(format!("Answer<typeof lib.{function}>"), function, value);
    }

    /// An answer of `app/src/meetups/api.ts`'s `function`.
    fn meetups(&mut self, function: &str, value: Value) {
        self.add(format!("Answer<typeof meetups.{function}>"), function, value);
    }

    fn add(&mut self, ty: String, name: &str, value: Value) {
        // An empty list would check nothing of its items.
        assert!(value.as_array().is_none_or(|items| !items.is_empty()), "{name}: an empty list is no sample");
        let name = format!("{name}_{}", self.0.len());
        self.0.push(Sample { ty, name, value });
    }

    fn typescript(&self) -> String {
        let mut out = String::from(
            "// Written by `cargo test -p mingizuk-app --test contract` (src-tauri/tests/contract.rs): what the\n\
             // shell answered in one run, typed as the UI declares it. Checked by `npm run check:contract`.\n\
             // Not committed; do not edit.\n\n\
             import type * as lib from '../src/lib/api';\n\
             import type * as meetups from '../src/meetups/api';\n\
             import type * as form from '../src/meetups/form';\n\
             import type { SyncStatus } from '../src/lib/types';\n\
             import type { SocialEvent } from '../src/meetups/types';\n\n\
             type Answer<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;\n",
        );
        for sample in &self.0 {
            let json = serde_json::to_string_pretty(&sample.value).unwrap();
            write!(out, "\nexport const {}: {} = {json};\n", sample.name, sample.ty).unwrap();
        }
        out
    }
}

/// Waits until `check` holds, calling it every 50 ms.
fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn every_answer_and_event_has_the_shape_the_app_s_types_say() {
    let db = tauri::async_runtime::block_on(TestDb::new(Backend::Sqlite));
    let server = tauri::async_runtime::block_on(TestServer::start(&db));
    let events: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let seen = events.clone();
    let device = common::device_with(
        &server.url,
        Arc::new(move |event: &str, payload: Value| seen.lock().unwrap().push((event.to_owned(), payload))),
    );
    let mut samples = Samples::default();

    personal(&device, &mut samples);
    account(&device, &mut samples);
    social(&device, &mut samples);

    // Events: the sync status as it changed, one social event of each kind.
    let events = events.lock().unwrap().clone();
    let mut kinds = std::collections::BTreeSet::new();
    for (event, payload) in events {
        match event.as_str() {
            "sync-status" => samples.add("SyncStatus".into(), "sync_status_event", payload),
            "social" => {
                let kind = payload["type"].as_str().unwrap_or_default().to_owned();
                if kinds.insert(kind) {
                    samples.add("SocialEvent".into(), "social_event", payload);
                }
            }
            other => panic!("an event the app does not listen to: {other}"),
        }
    }
    let expected = ["message", "notice", "online", "refused", "sent"];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), expected, "each kind of social event came");

    // The meetup form checks the limits before the server does: the same numbers as the rules.
    let pinned = "{ title: typeof form.TITLE_MAX; contents: typeof form.CONTENTS_MAX; comment: typeof form.COMMENT_MAX; \
                  message: typeof form.MESSAGE_MAX; members_min: typeof form.MEMBER_LIMIT_MIN; \
                  members_max: typeof form.MEMBER_LIMIT_MAX; place_name: typeof form.PLACE_NAME_MAX; \
                  address: typeof form.ADDRESS_MAX }";
    samples.add(
        pinned.into(),
        "meetup_form_limits",
        json!({
            "title": limits::MEETUP_TITLE_MAX_CHARS,
            "contents": limits::MEETUP_CONTENTS_MAX_CHARS,
            "comment": limits::COMMENT_MAX_CHARS,
            "message": limits::CHAT_TEXT_MAX_CHARS,
            "members_min": limits::MEETUP_MEMBER_LIMIT_MIN,
            "members_max": limits::MEETUP_MEMBER_LIMIT_MAX,
            "place_name": limits::PLACE_NAME_MAX_CHARS,
            "address": limits::ADDRESS_MAX_CHARS,
        }),
    );

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/contract/samples.generated.ts");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, samples.typescript()).unwrap();
    tauri::async_runtime::block_on(server.stop());
}

/// The personal commands, on a device that draws a character and plays its main routine.
fn personal(device: &Device, samples: &mut Samples) {
    samples.lib("home", device.ok("home", json!({})));
    samples.lib("drawCharacter", device.ok("draw_character", json!({})));
    samples.lib("catalog", device.ok("catalog", json!({})));
    samples.lib("limits", device.ok("limits", json!({})));
    let preset = PRESETS[0].id.to_string();
    device.ok("set_main", json!({ "id": preset }));
    let main = device.ok("routine", json!({ "id": preset }));
    for entry in main["entries"].as_array().unwrap() {
        samples.lib("completeAction", device.ok("complete_action", json!({ "routine": preset, "entry": entry["id"] })));
    }
    samples.lib("routine", device.ok("routine", json!({ "id": preset })));
    let catalog = device.ok("catalog", json!({}));
    let picks: Vec<Value> =
        catalog.as_array().unwrap()[..3].iter().map(|a| json!({ "action": a["id"], "count": 12 })).collect();
    samples.lib("createRoutine", device.ok("create_routine", json!({ "name": "점심 스트레칭", "picks": picks })));
    samples.lib("routines", device.ok("routines", json!({})));
    let home = device.ok("home", json!({}));
    let today = chrono::NaiveDate::parse_from_str(home["today"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    samples.lib("home", home);
    samples.lib("collection", device.ok("collection", json!({})));
    samples.lib("trackerMonth", device.ok("tracker_month", json!({ "year": today.year(), "month": today.month() })));
    samples.lib("weekPage", device.ok("week_page", json!({ "week": null, "mode": "actions" })));
    samples.lib("weekPage", device.ok("week_page", json!({ "week": 1, "mode": "routines" })));
    samples.lib("stats", device.ok("stats", json!({})));
    device.ok("set_reminder", json!({ "minutes": 480 }));
    samples.lib("settings", device.ok("settings", json!({})));
    let exported = device.ok("export_data", json!({ "format": "json" }));
    let file = std::fs::read_to_string(exported["path"].as_str().unwrap()).unwrap();
    samples.lib("exportData", exported);
    samples.lib("importData", common::device().ok("import_data", json!({ "json": file })));
}

/// Signing up and the sync status until the device's data is in the account.
fn account(device: &Device, samples: &mut Samples) {
    samples.lib("account", device.ok("account", json!({})));
    let email = format!("contract-{}@mingizuk.test", uuid::Uuid::new_v4().simple());
    let signed_up =
        device.ok("sign_up", json!({ "email": email, "password": "stretch every day", "nickname": "계약" }));
    samples.lib("signUp", signed_up);
    until("the device is up to date", || device.ok("sync_status", json!({}))["phase"] == "up_to_date");
    samples.lib("syncStatus", device.ok("sync_status", json!({})));
    samples.lib("account", device.ok("account", json!({})));
    samples.lib(
        "editProfile",
        device.ok("edit_profile", json!({ "nickname": "계약서", "password": null, "currentPassword": null })),
    );
}

/// The meetup commands: a meetup written, liked, commented, chatted in, and writes refused.
fn social(device: &Device, samples: &mut Samples) {
    let outbox_empty = || device.ok("outbox", json!({})).as_array().unwrap().is_empty();
    let starts = Utc::now() + Days::days(1);
    let body = json!({
        "title": "한강 아침 스트레칭",
        "contents": "가볍게 몸 풀고 커피 한 잔!",
        "starts_at": rfc3339(starts),
        "ends_at": rfc3339(starts + Days::hours(1)),
        "member_limit": 6,
        "image_id": null,
        "location": { "place_name": "여의도 한강공원", "address": "서울특별시 영등포구 여의동로 330", "lat": 37.5284, "lng": 126.9327 }
    });
    samples.meetups("createMeetup", device.ok("create_meetup", json!({ "meetup": body })));
    until("the meetup is written", outbox_empty);
    let listing = device.ok("meetups", json!({ "sort": "new", "region": null, "cursor": null }));
    let id = listing["items"][0]["id"].as_i64().unwrap();
    samples.meetups("meetups", listing);
    samples.meetups("like", device.ok("like", json!({ "id": id, "liked": true })));
    samples.meetups("comment", device.ok("comment", json!({ "id": id, "text": "같이 가요!" })));
    until("the like and the comment are written", outbox_empty);
    samples.meetups("meetup", device.ok("meetup", json!({ "id": id })));
    samples.meetups("comments", device.ok("comments", json!({ "id": id })));
    samples.lib("myMeetups", device.ok("my_meetups", json!({ "role": "host" })));
    samples.lib("myComments", device.ok("my_comments", json!({})));

    samples.meetups("openRoom", device.ok("open_room", json!({ "id": id })));
    samples.meetups("sendMessage", device.ok("send_message", json!({ "id": id, "text": "내일 봐요" })));
    until("the message is in the room", || !device.ok("messages", json!({ "id": id })).as_array().unwrap().is_empty());
    samples.meetups("messages", device.ok("messages", json!({ "id": id })));
    samples.meetups("olderMessages", device.ok("older_messages", json!({ "id": id, "beforeSeq": 1_000_000 })));
    device.ok("set_notice", json!({ "id": id, "text": "7시 정각 출발" }));
    until("the notice is kept", || !device.ok("notice", json!({ "id": id })).is_null());
    samples.meetups("notice", device.ok("notice", json!({ "id": id })));

    let icon = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("icons/32x32.png")).unwrap();
    let raw = tauri::ipc::InvokeBody::Raw(icon);
    let uploaded = device.call_with("upload_image", raw, &[("x-mingizuk-content-type", "image/png")]).unwrap();
    samples.meetups("uploadImage", uploaded);

    // Writes the server refuses stay in the outbox with the reason: an HTTP one and a message.
    let nowhere = id + 1_000_000;
    device.ok("comment", json!({ "id": nowhere, "text": "아무도 없나요?" }));
    device.ok("send_message", json!({ "id": nowhere, "text": "여보세요" }));
    until("both writes are refused", || {
        let outbox = device.ok("outbox", json!({}));
        outbox.as_array().unwrap().iter().filter(|item| !item["refused"].is_null()).count() == 2
    });
    samples.meetups("outbox", device.ok("outbox", json!({})));
}
