#![allow(clippy::unwrap_used)]

use super::*;

struct Home {
    dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("bin/mingizuk");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::write(&exe, b"").unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("second profile")).unwrap();
        Home { dir, exe }
    }

    fn autostart(&self, settings: &[(&str, &str)]) -> Autostart {
        self.autostart_on("data", settings)
    }

    /// On the data folder `data` (in the home).
    fn autostart_on(&self, data: &str, settings: &[(&str, &str)]) -> Autostart {
        let settings = settings.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        Autostart::new(self.autostart_dir(), self.exe.clone(), settings, &self.dir.path().join(data))
    }

    fn autostart_dir(&self) -> PathBuf {
        self.dir.path().join("config/autostart")
    }

    fn entries(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.autostart_dir()) else { return Vec::new() };
        dir.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }

    fn entry(&self) -> String {
        std::fs::read_to_string(self.autostart_dir().join("mingizuk.desktop")).unwrap()
    }
}

#[test]
fn something_to_remind_of_makes_the_login_entry_and_nothing_left_removes_it() {
    let home = Home::new();
    let autostart = home.autostart(&[]);
    autostart.follow(true).unwrap();
    let entry = home.entry();
    assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
    assert!(entry.contains(&format!("\nExec=\"{}\" --background\n", home.exe.display())), "{entry}");
    autostart.follow(true).unwrap();
    assert_eq!(home.entries(), ["mingizuk.desktop"], "one entry");

    autostart.follow(false).unwrap();
    assert_eq!(home.entries(), Vec::<String>::new());
    autostart.follow(false).unwrap();
}

#[test]
fn the_entry_starts_the_app_with_its_settings_and_another_data_folder_has_its_own() {
    let home = Home::new();
    home.autostart(&[]).follow(true).unwrap();
    let settings = [("MINGIZUK_DATA_DIR", "/data/second profile"), ("MINGIZUK_SERVER", "http://x")];
    let profile = home.autostart_on("second profile", &settings);
    profile.follow(true).unwrap();
    let entries = home.entries();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let second = entries.iter().find(|name| *name != "mingizuk.desktop").unwrap();
    let second = std::fs::read_to_string(home.autostart_dir().join(second)).unwrap();
    let exec = format!(
        "\nExec=env \"MINGIZUK_DATA_DIR=/data/second profile\" \"MINGIZUK_SERVER=http://x\" \"{}\" --background\n",
        home.exe.display()
    );
    assert!(second.contains(&exec), "{second}");
    assert!(home.entry().contains("\nExec=\""), "the default folder's entry is left as it was");
}

#[test]
fn an_app_moved_since_rewrites_the_entry_and_a_missing_one_writes_none() {
    let home = Home::new();
    home.autostart(&[]).follow(true).unwrap();
    let moved = home.dir.path().join("elsewhere/mingizuk");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::write(&moved, b"").unwrap();
    let data = home.dir.path().join("data");
    Autostart::new(home.autostart_dir(), moved.clone(), Vec::new(), &data).follow(true).unwrap();
    assert!(home.entry().contains(moved.to_str().unwrap()));

    let other = tempfile::tempdir().unwrap();
    let gone =
        Autostart::new(other.path().join("autostart"), other.path().join("mingizuk (deleted)"), Vec::new(), &data);
    gone.follow(true).unwrap();
    assert!(!other.path().join("autostart").exists(), "no entry runs a file that is not there");
}

#[test]
fn an_entry_the_user_removed_or_disabled_stays_so_until_a_reminder_is_set_again() {
    let home = Home::new();
    let autostart = home.autostart(&[]);
    autostart.follow(true).unwrap();
    std::fs::remove_file(home.autostart_dir().join("mingizuk.desktop")).unwrap();
    autostart.follow(true).unwrap();
    assert_eq!(home.entries(), Vec::<String>::new(), "removed by the user: not made again");

    // Nothing to remind of, then a reminder set again: asked again.
    autostart.follow(false).unwrap();
    autostart.follow(true).unwrap();
    assert_eq!(home.entries(), ["mingizuk.desktop"]);

    let disabled = home.entry().replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false");
    std::fs::write(home.autostart_dir().join("mingizuk.desktop"), &disabled).unwrap();
    autostart.follow(true).unwrap();
    assert_eq!(home.entry(), disabled, "disabled by the user: left so");
}

#[test]
fn an_exec_path_keeps_its_spaces_quotes_dollars_backslashes_and_percents() {
    assert_eq!(quoted("/opt/My Apps/mingizuk"), "\"/opt/My Apps/mingizuk\"");
    assert_eq!(quoted(r#"/a"b`c$d\e%f"#), r#""/a\\"b\\`c\\$d\\\\e%%f""#);
    let home = Home::new();
    let broken = home.autostart(&[("MINGIZUK_SERVER", "http://a\nExec=rm")]);
    assert!(broken.follow(true).is_err(), "a line break never reaches the entry");
    assert_eq!(home.entries(), Vec::<String>::new());
}
