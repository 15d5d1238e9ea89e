//! Drives the real desktop app (`mingizuk`, the Tauri binary) in a real window: `tauri-driver`
//! starts `WebKitWebDriver`, which starts the app, and the tests speak WebDriver to it through
//! fantoccini. The app finds its data folder and sync server in the environment given here, so
//! every test gets a fresh device pointed at a server on 127.0.0.1.
//!
//! Elements are found by `data-testid` (the contract in `src-tauri/COMMANDS.md`). Screenshots of
//! the main screens land in `$MINGIZUK_SCREENSHOTS` (default `target/e2e-screenshots`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;
use tokio::process::{Child, Command};

pub mod notifications;
pub mod tiles;
pub mod window;

/// How long a screen may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A free port on 127.0.0.1 (bound, then released for the caller to use).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The app binary the workspace built (`cargo build -p mingizuk-app`), or `MINGIZUK_APP`.
pub fn app_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MINGIZUK_APP") {
        return Ok(PathBuf::from(path));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    };
    let path = target.join("debug/mingizuk");
    if !path.exists() {
        bail!("{} is missing: build the app first (scripts/test.sh does)", path.display());
    }
    Ok(path)
}

/// Where screenshots go.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("MINGIZUK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots"))
}

/// One running app with its own data folder, driven through WebDriver.
pub struct App {
    pub client: Client,
    driver: Child,
    /// The port of the WebKitWebDriver that tauri-driver started (it outlives a killed
    /// tauri-driver, so it is stopped by its command line).
    native_port: u16,
    /// The device's data folder (kept until the app is closed).
    pub data: tempfile::TempDir,
    /// The app's environment (its data folder, server…).
    env: Vec<(String, std::ffi::OsString)>,
}

fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl App {
    /// Launches the app on a fresh device that syncs with `server_url` (which need not be up).
    pub async fn launch(server_url: &str) -> Result<App> {
        Self::launch_with(server_url, &[]).await
    }

    /// As `launch`, with `env` added to the app's environment.
    pub async fn launch_with(server_url: &str, env: &[(&str, std::ffi::OsString)]) -> Result<App> {
        let data = tempfile::tempdir()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let home = data.path().join("home");
        std::fs::create_dir_all(&home)?;
        let mut app_env: Vec<(String, std::ffi::OsString)> = vec![
            ("MINGIZUK_DATA_DIR".into(), data.path().join("device").into()),
            ("MINGIZUK_SERVER".into(), server_url.into()),
            ("MINGIZUK_EXPORT_DIR".into(), data.path().join("exports").into()),
            // The session stays in the test's folder, never in the keychain of whoever runs it.
            ("MINGIZUK_KEYCHAIN".into(), "off".into()),
            // Window state and any other per-user file of the app stay in the test's folder.
            ("XDG_CONFIG_HOME".into(), home.join("config").into()),
            ("XDG_DATA_HOME".into(), home.join("data").into()),
            ("XDG_CACHE_HOME".into(), home.join("cache").into()),
        ];
        app_env.extend(env.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
        let mut driver = Command::new(tauri_driver()?)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .envs(app_env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("start tauri-driver (cargo install tauri-driver --locked)")?;
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities
            .insert("tauri:options".into(), serde_json::json!({ "application": app_binary()?.to_string_lossy() }));
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::native().capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(error) if started.elapsed() < PATIENCE => {
                    if let Some(status) = driver.try_wait()? {
                        bail!("tauri-driver exited ({status}) before a session started: {error}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error).context("start a WebDriver session with the app"),
            }
        };
        Ok(App { client, driver, native_port, data, env: app_env })
    }

    /// Launches the app binary again, as a user would, on this app's data folder and settings;
    /// answers how it exited (a launch while the app runs shows its window and exits).
    pub async fn launch_again(&self) -> Result<std::process::ExitStatus> {
        let mut again = self.start_again(&[])?;
        tokio::time::timeout(PATIENCE, again.wait())
            .await
            .context("the second launch did not exit")?
            .map_err(Into::into)
    }

    /// Starts the app binary on this app's data folder and settings with `args`, outside
    /// WebDriver (as the desktop does at login); killed when dropped.
    pub fn start_again(&self, args: &[&str]) -> Result<tokio::process::Child> {
        Command::new(app_binary()?)
            .args(args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("start the app again")
    }

    /// The desktop's login entry for the app on its data folder (`~/.config/autostart`, in the
    /// test's home: the only entry there).
    pub fn login_entry(&self) -> PathBuf {
        let dir = self.data.path().join("home/config/autostart");
        let entries = std::fs::read_dir(&dir).into_iter().flatten().flatten();
        let mut found =
            entries.map(|entry| entry.path()).filter(|path| path.extension().is_some_and(|e| e == "desktop"));
        found.next().unwrap_or_else(|| dir.join("mingizuk.desktop"))
    }

    /// Where the app writes its exports ("my data" on the me screen).
    pub fn export_dir(&self) -> PathBuf {
        self.data.path().join("exports")
    }

    /// Calls one of the shell's commands from the page, as the UI does: its JSON answer, or the
    /// `{code, message}` it was refused with as an error. For what the UI does not show (say,
    /// the shell's own sync status when the indicator disagrees).
    pub async fn invoke(&self, command: &str) -> Result<Value> {
        let script = "const done = arguments[arguments.length - 1];\n\
                      window.__TAURI_INTERNALS__.invoke(arguments[0]).then(\n\
                        (value) => done({ ok: value ?? null }),\n\
                        (error) => done({ error: error ?? null }));";
        let answer = self.client.execute_async(script, vec![Value::from(command)]).await?;
        match answer.get("ok") {
            Some(value) => Ok(value.clone()),
            None => bail!("{command} was refused: {}", answer["error"]),
        }
    }

    /// The element with this test id, once it is shown.
    pub async fn find(&self, id: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(&testid(id)))
            .await
            .with_context(|| format!("no element [data-testid={id}] within {PATIENCE:?}"))
    }

    /// Every element with this test id shown now.
    pub async fn find_all(&self, id: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(&testid(id))).await?)
    }

    /// The elements matching a CSS selector shown now.
    pub async fn select_all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Clicks the element with this test id (waiting for it to be shown and enabled).
    pub async fn click(&self, id: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let element = self.find(id).await?;
            match self.click_element(&element).await {
                Ok(()) => return Ok(()),
                Err(error) if started.elapsed() > PATIENCE => {
                    return Err(error).with_context(|| format!("click [data-testid={id}]"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Scrolls an element to the middle of the window (clear of the fixed navigation bar) and
    /// clicks it, as a person would; fails if it is disabled or covered.
    pub async fn click_element(&self, element: &Element) -> Result<()> {
        if !element.is_enabled().await? {
            bail!("the element is disabled");
        }
        self.show(element).await?;
        element.click().await?;
        Ok(())
    }

    /// Scrolls an element to the middle of the window (for a screenshot of it, say).
    pub async fn show(&self, element: &Element) -> Result<()> {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                vec![serde_json::to_value(element)?],
            )
            .await?;
        Ok(())
    }

    /// Replaces the text of an input.
    pub async fn fill(&self, id: &str, text: &str) -> Result<()> {
        let element = self.find(id).await?;
        element.clear().await?;
        element.send_keys(text).await?;
        Ok(())
    }

    /// An attribute of the element with this test id.
    pub async fn attr(&self, id: &str, name: &str) -> Result<Option<String>> {
        Ok(self.find(id).await?.attr(name).await?)
    }

    /// The text of the element with this test id.
    pub async fn text(&self, id: &str) -> Result<String> {
        Ok(self.find(id).await?.text().await?)
    }

    /// Waits until `check` holds, re-evaluating it every 100 ms.
    pub async fn until<F, Fut>(&self, what: &str, check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        self.until_within(PATIENCE, what, check).await
    }

    /// `until` for what crosses the network (sync after a sign-up): three times the patience.
    pub async fn until_long<F, Fut>(&self, what: &str, check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        self.until_within(PATIENCE * 3, what, check).await
    }

    async fn until_within<F, Fut>(&self, patience: Duration, what: &str, mut check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let started = Instant::now();
        loop {
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            if started.elapsed() > patience {
                bail!("waited {patience:?} for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the attribute `name` of the element with this test id equals `value`.
    pub async fn until_attr(&self, id: &str, name: &str, value: &str) -> Result<()> {
        self.until(&format!("[data-testid={id}] {name}={value}"), || async {
            Ok(self.attr(id, name).await?.as_deref() == Some(value))
        })
        .await
    }

    /// Waits until an information toast says `text` (among others that may still show).
    pub async fn until_info_toast(&self, what: &str, text: &str) -> Result<()> {
        self.until(what, || async {
            for toast in self.find_all("info-toast").await? {
                if toast.text().await?.contains(text) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await
    }

    /// Saves a screenshot of the window as `<name>.png`, after two animation frames so that the
    /// last change is painted.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the WebDriver session (which closes the app) and stops tauri-driver.
    pub async fn close(mut self) -> Result<()> {
        let closed = self.client.clone().close().await;
        self.driver.kill().await.ok();
        stop_native_driver(self.native_port);
        closed?;
        Ok(())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        stop_native_driver(self.native_port);
    }
}

fn stop_native_driver(port: u16) {
    let _ = std::process::Command::new("pkill").args(["-f", &format!("WebKitWebDriver --port={port} ")]).status();
}

fn tauri_driver() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Ok(PathBuf::from(path));
    }
    // Where `cargo install` put it, else the PATH's.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cargo"));
    let installed = cargo_home.join("bin/tauri-driver");
    Ok(if installed.exists() { installed } else { PathBuf::from("tauri-driver") })
}

/// Now, as milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis())
        .unwrap_or(i64::MAX)
}

/// Onboarding, shown on the first launch only: four slides, then "밍기적 시작하기".
pub async fn pass_onboarding(app: &App) -> Result<()> {
    app.find("onboarding").await?;
    app.screenshot("01-onboarding").await?;
    for _ in 0..3 {
        app.click("onboarding-next").await?;
    }
    app.click("onboarding-start").await?;
    app.find("nav-home").await?;
    Ok(())
}

/// From the home screen with no character: the draw prompt, the dialog, a character.
pub async fn draw_character(app: &App) -> Result<()> {
    app.click("nav-home").await?;
    app.click("draw-prompt").await?;
    app.screenshot("03-draw").await?;
    app.click("draw-confirm").await?;
    app.until_attr("character-card", "data-exp", "0").await?;
    Ok(())
}
