//! What the shell's command tests share: the app on Tauri's mock runtime (no display needed) over
//! a real engine in a temporary folder, called over IPC as the UI calls it.

#![allow(clippy::unwrap_used, dead_code)]

use mingizuk_app_lib::{Config, Shell, events};
use serde_json::Value;
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

/// How long a test waits for something to happen in the background (sync, the outbox).
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits until `check` holds, at most `WAIT`.
pub fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Nothing listens on port 9 ("discard"): a device that never reaches a server.
pub const NO_SERVER: &str = "http://127.0.0.1:9";

/// The password of the tests' accounts.
pub const PASSWORD: &str = "stretch every day";

/// A meetup as the write form sends it: `title`, from `starts` for an hour, by the Han river.
pub fn meetup(title: &str, starts: chrono::DateTime<chrono::Utc>) -> Value {
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "title": title, "contents": "가볍게!", "starts_at": at(starts),
        "ends_at": at(starts + chrono::Duration::hours(1)), "member_limit": null, "image_id": null,
        "location": { "place_name": "여의도 한강공원", "address": "서울특별시 영등포구 여의동로 330", "lat": 37.5284, "lng": 126.9327 }
    })
}

pub struct Device {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    pub dir: tempfile::TempDir,
}

/// A fresh server (on a fresh SQLite database) and the app on a fresh device syncing with it,
/// its events dropped.
pub fn online() -> (mingizuk_tests::TestDb, mingizuk_tests::TestServer, Device) {
    let db = tauri::async_runtime::block_on(mingizuk_tests::TestDb::new(mingizuk_tests::Backend::Sqlite));
    let server = tauri::async_runtime::block_on(mingizuk_tests::TestServer::start(&db));
    let device = device_with(&server.url, events::nowhere());
    (db, server, device)
}

/// The app on a fresh device with no server to reach, its events dropped.
pub fn device() -> Device {
    device_with(NO_SERVER, events::nowhere())
}

/// The app on a fresh device syncing with `server_url`, its events given to `emit`.
pub fn device_with(server_url: &str, emit: events::Emit) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let app = mingizuk_app_lib::commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
    let config = Config {
        server_url: server_url.into(),
        data_dir: dir.path().to_path_buf(),
        tile_url: "http://127.0.0.1:9/{z}/{x}/{y}.png".into(),
        export_dir: dir.path().join("exports"),
        keychain: false,
    };
    let shell = tauri::async_runtime::block_on(Shell::open(config, emit)).unwrap();
    app.manage(shell);
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Device { _app: app, window, dir }
}

impl Device {
    /// Calls a command as `invoke(cmd, args)` does: the JSON answer, or the `{code, message}`.
    pub fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.call_with(cmd, tauri::ipc::InvokeBody::Json(args), &[])
    }

    /// Calls a command as `invoke(cmd, body, { headers })` does, the body raw bytes (a
    /// `Uint8Array`) or JSON.
    pub fn call_with(&self, cmd: &str, body: tauri::ipc::InvokeBody, headers: &[(&str, &str)]) -> Result<Value, Value> {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap()))
            .collect::<tauri::http::HeaderMap>();
        get_ipc_response(
            &self.window,
            tauri::webview::InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                // The app's own origin on Linux (a remote origin would need a capability).
                url: "tauri://localhost".parse().unwrap(),
                body,
                headers,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    pub fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// Signs up a new account with this device's data and waits until the data is in it.
    pub fn sign_up(&self, email: &str, nickname: &str) -> Value {
        let user =
            self.ok("sign_up", serde_json::json!({ "email": email, "password": PASSWORD, "nickname": nickname }));
        until("the device is up to date", || self.ok("sync_status", serde_json::json!({}))["phase"] == "up_to_date");
        user
    }

    /// Waits until every write queued in the outbox was answered.
    pub fn until_outbox_empty(&self, what: &str) {
        until(what, || self.ok("outbox", serde_json::json!({})).as_array().unwrap().is_empty());
    }

    /// The shell the commands run over.
    pub fn shell(&self) -> tauri::State<'_, Shell> {
        self.window.state::<Shell>()
    }
}
