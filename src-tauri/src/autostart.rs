//! While there is something to remind of (a daily reminder set, or a joined meetup yet to start:
//! what keeps the app running when its window closes, `background.rs`), the app starts when the
//! user logs in, hidden in the tray: without it, reminders stopped coming after the first restart
//! of the computer until the app was opened by hand. The reminder task keeps the entry in step at
//! each look (`reminders.rs`), so a setting changed while the app was not running, or an app moved
//! since, is followed within a minute.
//!
//! The user has the last word: an entry they removed, or disabled in their desktop's settings
//! (`Hidden=true`, `X-GNOME-Autostart-enabled=false`), is left so until there is nothing to remind
//! of; a reminder set again after that makes it again. The entry the app made is named in
//! `login-entry.json` in the data folder.
//!
//! Linux (XDG autostart): a desktop entry in `$XDG_CONFIG_HOME/autostart` (`~/.config/autostart`)
//! that runs the app with [`AT_LOGIN`] and the `MINGIZUK_*` settings it was started with —
//! `mingizuk.desktop` for the default data folder, one per folder for another (a second profile
//! keeps its own entry). Other systems are not built here: no entry is made there
//! (`tauri-plugin-autostart` covers macOS and Windows).

use std::path::{Path, PathBuf};

use crate::state;

/// The argument an app started at login is given: it starts hidden, in the tray.
pub const AT_LOGIN: &str = "--background";

/// The settings an app started at login is given again, as it had them (`state.rs`, `webview.rs`).
const SETTINGS: [&str; 6] = [
    state::DATA_DIR_VAR,
    state::SERVER_VAR,
    state::TILE_URL_VAR,
    state::EXPORT_DIR_VAR,
    state::KEYCHAIN_VAR,
    crate::webview::HARDWARE_ACCELERATION_VAR,
];

/// Whether this process was started at login.
pub fn started_at_login() -> bool {
    std::env::args_os().skip(1).any(|arg| arg == AT_LOGIN)
}

/// This user's login entry for this app on this data folder.
#[derive(Debug)]
pub struct Autostart {
    entry: PathBuf,
    exe: PathBuf,
    settings: Vec<(String, String)>,
    /// Where whether the app made the entry is kept.
    made: PathBuf,
}

impl Autostart {
    /// The entry of the user running the app, on `data_dir`, for the app as installed (an
    /// AppImage's own file, not where it is mounted); None where this system has no such entry.
    pub fn for_this_user(data_dir: &Path) -> Option<Autostart> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")))?;
        let exe = std::env::current_exe().ok()?;
        // An AppImage runs from where it is mounted (`/tmp/.mount_…`); `APPIMAGE` names its file
        // (and is inherited by what it starts: trusted only from inside a mount).
        let appimage = std::env::var_os("APPIMAGE").filter(|_| exe.to_string_lossy().contains("/.mount_"));
        let settings =
            SETTINGS.iter().filter_map(|name| Some(((*name).to_owned(), std::env::var(name).ok()?))).collect();
        Some(Autostart::new(config.join("autostart"), appimage.map_or(exe, PathBuf::from), settings, data_dir))
    }

    /// `settings`: the `MINGIZUK_*` variables to start with (a data folder among them names an
    /// entry of its own).
    pub fn new(dir: PathBuf, exe: PathBuf, settings: Vec<(String, String)>, data_dir: &Path) -> Autostart {
        let name = match settings.iter().find(|(name, _)| name == state::DATA_DIR_VAR) {
            Some((_, folder)) => format!("mingizuk-{:016x}.desktop", fnv1a(folder.as_bytes())),
            None => "mingizuk.desktop".to_owned(),
        };
        Autostart { entry: dir.join(name), exe, settings, made: data_dir.join("login-entry.json") }
    }

    /// Makes the entry when `wanted` (or rewrites it if it runs another file), removes it when
    /// not; leaves alone an entry the user removed or disabled since the app made it. Writes
    /// nothing when all is so already.
    pub fn follow(&self, wanted: bool) -> std::io::Result<()> {
        let present = std::fs::read_to_string(&self.entry).ok();
        let made = self.made_here();
        if !wanted {
            if present.is_some() {
                std::fs::remove_file(&self.entry)?;
                tracing::info!("the app no longer starts at login");
            }
            return self.remember(made, false);
        }
        let disabled = present.as_deref().is_some_and(|entry| {
            entry.lines().any(|line| line.trim() == "Hidden=true" || line.trim() == "X-GNOME-Autostart-enabled=false")
        });
        if disabled || (made && present.is_none()) {
            return Ok(());
        }
        // An app replaced while it runs reads as "… (deleted)": the next look will see the new one.
        if !self.exe.is_file() {
            return Ok(());
        }
        let entry = self
            .entry_text()
            .ok_or_else(|| std::io::Error::other(format!("cannot name {} in a desktop entry", self.exe.display())))?;
        if present.as_deref() != Some(entry.as_str()) {
            if let Some(dir) = self.entry.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let partial = self.entry.with_extension("desktop.partial");
            std::fs::write(&partial, entry)?;
            std::fs::rename(&partial, &self.entry)?;
            tracing::info!(entry = %self.entry.display(), "the app starts at login, for its reminders");
        }
        self.remember(made, true)
    }

    /// Whether the app made this entry (`login-entry.json` names the entry it made, if any).
    fn made_here(&self) -> bool {
        let made: Option<String> =
            std::fs::read(&self.made).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).flatten();
        made.is_some_and(|name| self.entry.file_name().is_some_and(|ours| ours == name.as_str()))
    }

    fn remember(&self, made: bool, now: bool) -> std::io::Result<()> {
        if made == now {
            return Ok(());
        }
        let name = self.entry.file_name().filter(|_| now).map(|name| name.to_string_lossy().into_owned());
        crate::files::write_json(&self.made, &name).map_err(|e| std::io::Error::other(e.message))
    }

    /// The desktop entry; None for a path or setting an entry cannot hold (not UTF-8, or a line
    /// break in it).
    fn entry_text(&self) -> Option<String> {
        let exe = self.exe.to_str()?;
        let settings = self.settings.iter().map(|(name, value)| format!("{name}={value}"));
        let args: Vec<String> = settings.chain([exe.to_owned()]).collect();
        if args.iter().any(|arg| arg.contains(['\n', '\r'])) {
            return None;
        }
        let env = if self.settings.is_empty() { "" } else { "env " };
        let exec = args.iter().map(|arg| quoted(arg)).collect::<Vec<_>>().join(" ");
        Some(format!(
            "[Desktop Entry]\nType=Application\nName=Mingizuk\nComment=Mingizuk in the background, for its reminders\n\
             Exec={env}{exec} {AT_LOGIN}\nIcon=mingizuk\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        ))
    }
}

/// A stable name for a data folder (FNV-1a, 64 bits): the same folder, the same entry.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// An argument of `Exec` (Desktop Entry Specification, "The Exec key"): in double quotes, with
/// `"`, `` ` ``, `$` and `\` escaped by a backslash, then every backslash doubled by the string
/// escape applied to any value; `%` doubled as it starts a field code.
fn quoted(arg: &str) -> String {
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' => out.extend(['\\', '\\', c]),
            '\\' => out.push_str("\\\\\\\\"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
