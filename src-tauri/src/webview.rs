//! How the web view draws. On Linux, WebKitGTK composites the page with OpenGL by default; where
//! there is no GPU driver (a virtual machine, a remote desktop, Xvfb) that is Mesa's software
//! rasterizer, which costs ~100 MB of memory in the web process and makes the first paint slower
//! (measured by `bench --bin app` under Xvfb: first paint 1.8 s → 1.0 s, 348 → 255 MB). The app's screens are simple
//! enough for WebKit's plain CPU painting everywhere, so it asks for that;
//! `MINGIZUK_HARDWARE_ACCELERATION=1` gives WebKit its default back.
//!
//! When the window appears: it opens hidden (`"visible": false` in `tauri.conf.json`) and is shown
//! once its page has loaded. Shown at once, the window was drawn before WebKit's web process had
//! painted anything, and the app's main thread then sat in a 500 ms timed wait that always expired
//! (seen with `strace`: the web process was meanwhile waiting on the app's process), so every
//! launch lost half a second: `bench --bin app` under Xvfb, first paint 1 060 – 1 090 → 560 – 570 ms.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::webview::{PageLoadEvent, PageLoadPayload};
use tauri::{App, Manager, Runtime, Webview};

/// `1`: WebKit composites with OpenGL again (its default).
pub const HARDWARE_ACCELERATION_VAR: &str = "MINGIZUK_HARDWARE_ACCELERATION";

/// A window whose page never finishes loading is shown all the same after this long.
const SHOW_AT_THE_LATEST: Duration = Duration::from_secs(3);

/// Whether a page has loaded: the window is shown once, at the first load, and never again by
/// a later one (a reload after the web process crashed) nor by [`show_at_the_latest`] — the user
/// may have closed it into the background meanwhile (`background.rs`).
static LOADED: AtomicBool = AtomicBool::new(false);

/// Shows the window once its page has loaded the first time.
pub fn on_page_load<R: Runtime>(webview: &Webview<R>, page: &PageLoadPayload<'_>) {
    if page.event() == PageLoadEvent::Finished
        && !LOADED.swap(true, Ordering::SeqCst)
        && let Err(e) = webview.window().show()
    {
        tracing::warn!(error = %e, "could not show the window");
    }
}

/// Keeps the window hidden when its page loads (an app started at login, `background.rs`).
#[cfg(desktop)]
pub fn stay_hidden() {
    LOADED.store(true, Ordering::SeqCst);
}

/// Shows every window still hidden after [`SHOW_AT_THE_LATEST`]: a page that fails to load must
/// not leave the app running without a window.
pub fn show_at_the_latest<R: Runtime>(app: &App<R>) {
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SHOW_AT_THE_LATEST).await;
        if LOADED.swap(true, Ordering::SeqCst) {
            return;
        }
        for window in app.webview_windows().values() {
            if !window.is_visible().unwrap_or(true) {
                tracing::warn!(window = window.label(), "the page did not load in time; showing the window");
                let _ = window.show();
            }
        }
    });
}

pub fn configure<R: Runtime>(app: &App<R>) {
    let accelerated = std::env::var(HARDWARE_ACCELERATION_VAR).is_ok_and(|v| v == "1");
    if accelerated {
        return;
    }
    for window in app.webview_windows().values() {
        #[cfg(target_os = "linux")]
        if let Err(e) = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = WebViewExt::settings(&webview.inner()) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        }) {
            tracing::warn!(error = %e, "could not set the web view's rendering");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = window;
    }
}
