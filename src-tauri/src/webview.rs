//! How the web view draws. On Linux, WebKitGTK composites the page with OpenGL by default; where
//! there is no GPU driver (a virtual machine, a remote desktop, Xvfb) that is Mesa's software
//! rasterizer, which costs ~100 MB of memory in the web process and makes the first paint slower
//! (measured by `bench --bin app` under Xvfb: first paint 1.8 s → 1.0 s, 348 → 255 MB). The app's screens are simple
//! enough for WebKit's plain CPU painting everywhere, so it asks for that;
//! `MINGIZUK_HARDWARE_ACCELERATION=1` gives WebKit its default back.

use tauri::{App, Manager, Runtime};

pub fn configure<R: Runtime>(app: &App<R>) {
    let accelerated = std::env::var("MINGIZUK_HARDWARE_ACCELERATION").is_ok_and(|v| v == "1");
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
