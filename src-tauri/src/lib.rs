//! The Tauri shell of Mingizuk: commands that are one-liners over `mingizuk-client`, events that
//! forward the client's changes, reminders, and the window. No product rule lives here.
//!
//! [`commands`] registers every command on a builder of any runtime, so the tests drive the real
//! commands with `tauri::test::mock_builder()`; [`run`] adds the plugins and the setup that
//! opens the device's data.

pub mod account;
#[cfg(desktop)]
pub mod autostart;
#[cfg(desktop)]
pub mod background;
mod csp;
pub mod error;
pub mod events;
mod files;
#[cfg(desktop)]
mod instance;
pub mod meetups;
pub mod personal;
pub mod reminders;
pub mod state;
#[cfg(desktop)]
mod tray_library;
mod webview;

use tauri::{Manager, Runtime};
use tauri_plugin_window_state::StateFlags;

pub use error::AppError;
pub use state::{Config, Shell};

/// Registers every command of COMMANDS.md.
pub fn commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        personal::home,
        personal::catalog,
        personal::limits,
        personal::routines,
        personal::routine,
        personal::create_routine,
        personal::edit_routine,
        personal::delete_routine,
        personal::set_main,
        personal::switch_main,
        personal::reset_cycle,
        personal::restart_cycle,
        personal::complete_action,
        personal::draw_character,
        personal::collection,
        personal::tracker_month,
        personal::week_page,
        personal::stats,
        personal::settings,
        personal::set_language,
        personal::set_reminder,
        personal::finish_onboarding,
        personal::painted,
        personal::export_data,
        personal::import_data,
        account::account,
        account::sign_up,
        account::sign_in,
        account::social_sign_in,
        account::cancel_social_sign_in,
        account::attach_other_account_data,
        account::cancel_sign_in,
        account::sign_out,
        account::edit_profile,
        account::delete_account,
        account::sync_status,
        meetups::meetups,
        meetups::my_meetups,
        meetups::my_comments,
        meetups::meetup,
        meetups::comments,
        meetups::messages,
        meetups::older_messages,
        meetups::notice,
        meetups::outbox,
        meetups::open_room,
        meetups::create_meetup,
        meetups::edit_meetup,
        meetups::delete_meetup,
        meetups::like,
        meetups::comment,
        meetups::edit_comment,
        meetups::delete_comment,
        meetups::join,
        meetups::leave,
        meetups::send_message,
        meetups::set_notice,
        meetups::search_places,
        meetups::upload_image,
        meetups::dismiss,
        meetups::tile_url,
    ])
}

/// Opens the device's data and starts the background tasks. Opening is local (a SQLite file and
/// the saved session); the network is only ever reached from background tasks and commands.
fn setup<R: Runtime>(app: &mut tauri::App<R>) -> Result<(), Box<dyn std::error::Error>> {
    webview::configure(app);
    webview::show_at_the_latest(app);
    let data_dir = app.path().app_data_dir()?;
    let export_dir = app.path().download_dir().or_else(|_| app.path().home_dir()).unwrap_or_else(|_| data_dir.clone());
    let config = Config::from_env(data_dir, export_dir);
    #[cfg(desktop)]
    let at_login = autostart::started_at_login();
    #[cfg(desktop)]
    {
        let handle = app.handle().clone();
        // Started at login while the app runs already (a session restored, two entries): no
        // window is asked for.
        let ask = !at_login;
        match instance::claim(&config.data_dir, ask, move || background::show(&handle)) {
            Ok(instance::Claim::First(guard)) => {
                app.manage(guard);
            }
            Ok(instance::Claim::Other) => {
                tracing::info!("Mingizuk already runs on this data folder");
                std::process::exit(0);
            }
            // Never a second app on the folder (its holder does not answer), nor one without it.
            Err(e) => {
                tracing::error!(error = %e, "Mingizuk cannot start on this data folder");
                std::process::exit(1);
            }
        }
    }
    let emit = events::emitter(app.handle().clone());
    let shell = tauri::async_runtime::block_on(Shell::open(config, emit))?;
    #[cfg(desktop)]
    {
        let background = background::Background::default();
        let autostart = autostart::Autostart::for_this_user(&shell.config.data_dir);
        if at_login {
            background::start_at_login(app.handle(), &shell, &background, autostart.as_ref());
        }
        app.manage(background);
        if let Some(autostart) = autostart {
            app.manage(autostart);
        }
    }
    app.manage(shell);
    reminders::start(app.handle().clone());
    Ok(())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,mingizuk=info".into()),
        )
        .init();
    let builder = commands(tauri::Builder::default())
        // The window opens hidden and shows once its page loaded (webview.rs): not the plugin's to show.
        .plugin(
            tauri_plugin_window_state::Builder::new().with_state_flags(StateFlags::all() - StateFlags::VISIBLE).build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .setup(setup)
        .on_page_load(webview::on_page_load);
    #[cfg(desktop)]
    let builder = builder.on_window_event(background::on_window_event);
    let mut context = tauri::generate_context!();
    let (server, tiles) = state::configured_urls();
    csp::allow_images(context.config_mut(), &[&server, &tiles]);
    if let Err(e) = builder.run(context) {
        tracing::error!(error = %e, "the app stopped with an error");
        std::process::exit(1);
    }
}
