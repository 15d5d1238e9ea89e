//! Reminders need the app running (PRODUCT.md §9), so on a desktop closing the window does not
//! always quit: while there is something to remind of — a daily reminder set, or a joined meetup
//! that has not started as last listed on this device — the window is hidden instead and
//! the app goes on in the system tray, whose menu opens the window again or quits. The first time
//! it does so the user is told once by a notification (where to find it, how to quit). With
//! nothing to remind of, closing the window quits as before: no app lingers unasked.
//!
//! Launching the app again while it runs in the background shows its window (`instance.rs`), so a
//! desktop without a tray (GNOME with no AppIndicator extension) still gets back to it; turning
//! the reminder off and closing quits there.
//!
//! The tray icon is made only when the window is first hidden: an app that is never sent to the
//! background never loads the tray's libraries. A system without them (`tray_library.rs`) quits
//! on close as if nothing were left to remind of: a hidden app with no way back is worse than
//! reminders only while it is open.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;

use mingizuk_client::core::model::Language;
use tauri::menu::{Menu, MenuEvent, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};
use tauri_plugin_notification::NotificationExt;

use crate::state::Shell;

const TRAY: &str = "mingizuk";
const OPEN: &str = "open";
const QUIT: &str = "quit";

/// Set once the app is on its way out: a later launch is then not answered (it waits for the
/// data folder instead of giving way to an app that is about to be gone).
static QUITTING: AtomicBool = AtomicBool::new(false);

/// The app's background state.
#[derive(Debug, Default)]
pub struct Background {
    /// Held while the tray icon is looked up and made (two close requests must not make two).
    tray: Mutex<()>,
}

/// Quits the app (the tray's "quit", a close with nothing to remind of).
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    QUITTING.store(true, Ordering::SeqCst);
    app.exit(0);
}

/// Whether closing the window keeps the app running: something is left to remind of.
pub fn stays(reminder_minutes: Option<u16>, meetup_ahead: bool) -> bool {
    reminder_minutes.is_some() || meetup_ahead
}

/// Whether there is something to remind of: a daily reminder set, or a joined meetup that has not
/// started, as last listed on this device (read from it, never asked of the network: right after
/// a start, before the reminder task heard from a slow server, the meetups joined count too).
pub async fn something_to_remind_of(shell: &Shell) -> bool {
    let reminder_minutes = shell.engine.settings().await.reminder_minutes;
    let joined = crate::reminders::joined(shell, false).await;
    stays(reminder_minutes, crate::reminders::meetup_ahead(&joined, Utc::now()))
}

/// The main window's close button (a window manager's close request): on desktops, decided by
/// [`stays`] once the settings are read.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else { return };
    if window.label() != "main" {
        return;
    }
    api.prevent_close();
    let window = window.clone();
    tauri::async_runtime::spawn(async move {
        let app = window.app_handle().clone();
        let (Some(shell), Some(background)) = (app.try_state::<Shell>(), app.try_state::<Background>()) else {
            // Closed before the data opened: nothing runs yet to remind of.
            return quit(&app);
        };
        if !crate::tray_library::available() || !something_to_remind_of(&shell).await {
            return quit(&app);
        }
        let language = shell.engine.settings().await.language;
        if let Err(e) = window.hide() {
            tracing::warn!(error = %e, "cannot hide the window; quitting instead");
            return quit(&app);
        }
        tracing::info!("the window is closed; the app goes on in the background for its reminders");
        if let Err(e) = tray(&app, &background, language) {
            tracing::warn!(error = %e, "cannot show the tray icon; launching the app again shows its window");
        }
        tell_once(&app, &shell, language).await;
    });
}

/// An app started at login (`autostart.rs`) goes straight to the background: its window stays
/// hidden and the tray icon is shown, as after a close. With nothing left to remind of it quits;
/// with no tray to show, its window opens as usual (never an app hidden with no way back).
pub fn start_at_login<R: Runtime>(
    app: &AppHandle<R>,
    shell: &Shell,
    background: &Background,
    autostart: Option<&crate::autostart::Autostart>,
) {
    if !crate::tray_library::available() {
        return;
    }
    let (remind, language) = tauri::async_runtime::block_on(async {
        (something_to_remind_of(shell).await, shell.engine.settings().await.language)
    });
    if !remind {
        // Its entry is left from before (a meetup begun while the computer was off): gone too.
        if let Some(Err(e)) = autostart.map(|autostart| autostart.follow(false)) {
            tracing::warn!(error = %e, "cannot remove the login entry");
        }
        tracing::info!("started at login with nothing to remind of: quitting");
        return quit(app);
    }
    crate::webview::stay_hidden();
    if let Err(e) = tray(app, background, language) {
        tracing::warn!(error = %e, "cannot show the tray icon; launching the app again shows its window");
    }
    tracing::info!("started at login: the app goes on in the background for its reminders");
}

/// Shows the main window again (the tray's "open", a later launch); false while the app quits
/// or when there is no window to show.
pub fn show<R: Runtime>(app: &AppHandle<R>) -> bool {
    if QUITTING.load(Ordering::SeqCst) {
        return false;
    }
    let Some(window) = app.get_webview_window("main") else { return false };
    let shown = window.unminimize().and_then(|()| window.show()).and_then(|()| window.set_focus());
    if let Err(e) = &shown {
        tracing::warn!(error = %e, "cannot show the window");
    }
    shown.is_ok()
}

fn labels(language: Language) -> (&'static str, &'static str) {
    match language {
        Language::Ko => ("밍기적 열기", "종료"),
        Language::En => ("Open Mingizuk", "Quit"),
    }
}

/// The tray icon with its menu in `language` (made the first time, its menu renewed after: the
/// language may have changed since).
fn tray<R: Runtime>(app: &AppHandle<R>, background: &Background, language: Language) -> tauri::Result<()> {
    let (open, quit) = labels(language);
    let menu = Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, OPEN, open, true, None::<&str>)?,
            &MenuItem::with_id(app, QUIT, quit, true, None::<&str>)?,
        ],
    )?;
    let _making = background.tray.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(icon) = app.tray_by_id(TRAY) {
        return icon.set_menu(Some(menu));
    }
    let mut builder = TrayIconBuilder::with_id(TRAY).menu(&menu).tooltip("밍기적").on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app).map(drop)
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    match event.id().as_ref() {
        OPEN => {
            show(app);
        }
        QUIT => quit(app),
        _ => {}
    }
}

/// Says once, the first time the window closes into the background, that the app goes on and
/// how to quit it. The device settings are not held while the notification is sent (a D-Bus call
/// that may block): marked told first, unmarked if it could not be sent.
async fn tell_once<R: Runtime>(app: &AppHandle<R>, shell: &Shell, language: Language) {
    {
        let mut device = shell.device.lock().await;
        if device.told_about_background {
            return;
        }
        device.told_about_background = true;
    }
    let (title, body) = match language {
        Language::Ko => {
            ("밍기적", "알림을 보내려고 밍기적이 계속 실행 중이에요. 끄려면 트레이 메뉴에서 '종료'를 눌러요.")
        }
        Language::En => {
            ("Mingizuk", "Mingizuk keeps running to send your reminders. To quit, choose 'Quit' in its tray menu.")
        }
    };
    let shown = app.notification().builder().title(title).body(body).show();
    let mut device = shell.device.lock().await;
    if let Err(e) = shown {
        tracing::warn!(error = %e, "cannot tell that the app keeps running");
        // Saved too: another save meanwhile may have written it as told.
        device.told_about_background = false;
    }
    if let Err(e) = device.save(&shell.config.data_dir) {
        tracing::warn!(error = %e, "cannot remember that the user was told");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_the_window_quits_unless_there_is_something_to_remind_of() {
        assert!(!stays(None, false));
        assert!(stays(Some(9 * 60), false));
        assert!(stays(None, true));
        assert!(stays(Some(0), true));
    }
}
