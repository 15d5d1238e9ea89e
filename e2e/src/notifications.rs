//! A real desktop notification server for the tests: a private D-Bus session bus with dunst (a
//! notification daemon, from Debian's packages) drawing its popups on the test's X display
//! (Xvfb). An app started with [`NotificationServer::env`] sends its notifications there as it
//! would on any Linux desktop (`org.freedesktop.Notifications`); a test reads back what was shown
//! (`dunstctl`) and photographs the whole screen with the popup on it (`xwd`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{PATIENCE, screenshot_dir};

/// A bus of its own: no service is activated on it, so nothing but dunst answers.
fn bus_config(dir: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        dir.display()
    )
}

/// Popups stay until closed (a test looks at them), in a font with Hangul and emoji.
const DUNSTRC: &str = "[global]
    font = Noto Sans CJK KR 12
    width = 360
    offset = 16x16
    history_length = 100
    ignore_dbusclose = false
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
";

/// One notification as the server showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The sending application's name.
    pub app: String,
    pub summary: String,
    pub body: String,
}

/// A running bus and notification daemon; both stop when dropped.
pub struct NotificationServer {
    dunst: Child,
    bus: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl NotificationServer {
    /// Starts the bus, then dunst on `$DISPLAY`, and waits until dunst answers.
    pub async fn start() -> Result<NotificationServer> {
        ensure!(std::env::var_os("DISPLAY").is_some(), "no X display: run under xvfb-run");
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(dir.path()))?;
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start dbus-daemon (apt install dbus-daemon)")?;
        let mut address = String::new();
        let stdout = bus.stdout.take().context("dbus-daemon's output")?;
        tokio::time::timeout(PATIENCE, BufReader::new(stdout).read_line(&mut address))
            .await
            .context("dbus-daemon printed no address")??;
        let address = address.trim().to_owned();
        ensure!(address.starts_with("unix:"), "dbus-daemon printed {address:?}, not an address");
        let dunstrc = dir.path().join("dunstrc");
        std::fs::write(&dunstrc, DUNSTRC)?;
        let dunst = Command::new("dunst")
            .arg("-config")
            .arg(&dunstrc)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start dunst (apt install dunst)")?;
        let mut server = NotificationServer { dunst, bus, address, _dir: dir };
        let started = Instant::now();
        while server.displayed().await.is_err() {
            if let Some(status) = server.dunst.try_wait()? {
                bail!("dunst exited ({status}) before it answered");
            }
            ensure!(started.elapsed() < PATIENCE, "dunst did not answer on the bus in {PATIENCE:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(server.bus.try_wait()?.is_none(), "dbus-daemon exited");
        Ok(server)
    }

    /// The environment that sends an app's notifications here.
    pub fn env(&self) -> (&'static str, OsString) {
        ("DBUS_SESSION_BUS_ADDRESS", OsString::from(&self.address))
    }

    async fn dunstctl(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("dunstctl")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::null())
            .output()
            .await
            .context("run dunstctl")?;
        ensure!(out.status.success(), "dunstctl {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
        Ok(String::from_utf8(out.stdout)?)
    }

    /// How many popups are on the screen now.
    pub async fn displayed(&self) -> Result<usize> {
        let count = self.dunstctl(&["count", "displayed"]).await?;
        count.trim().parse().with_context(|| format!("dunstctl count: {count:?}"))
    }

    /// Waits until at least `count` popups are on the screen.
    pub async fn until_displayed(&self, count: usize, patience: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            let now = self.displayed().await?;
            if now >= count {
                return Ok(());
            }
            ensure!(started.elapsed() < patience, "{now} notification(s) shown after {patience:?}, expected {count}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Closes every popup, and answers every notification shown so far, oldest first.
    pub async fn close_all(&self) -> Result<Vec<Shown>> {
        self.dunstctl(&["close-all"]).await?;
        let history: Value = serde_json::from_str(&self.dunstctl(&["history"]).await?)?;
        let entries = history["data"][0].as_array().context("dunstctl history: no list")?;
        let text = |entry: &Value, key: &str| entry[key]["data"].as_str().unwrap_or_default().to_owned();
        let mut shown: Vec<Shown> = entries
            .iter()
            .map(|entry| Shown {
                app: text(entry, "appname"),
                summary: text(entry, "summary"),
                body: text(entry, "body"),
            })
            .collect();
        shown.reverse();
        Ok(shown)
    }

    /// Saves the whole X screen (the app's window with the popups over it) as `<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let out = Command::new("xwd")
            .args(["-root", "-silent"])
            .stdin(Stdio::null())
            .output()
            .await
            .context("run xwd (apt install x11-apps)")?;
        ensure!(out.status.success(), "xwd: {}", String::from_utf8_lossy(&out.stderr).trim());
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, xwd_to_png(&out.stdout)?)?;
        Ok(path)
    }
}

/// An X window dump (XWD version 7, true-colour pixels of 24 or 32 bits, as Xvfb's 24-bit screens
/// give) as a PNG.
fn xwd_to_png(xwd: &[u8]) -> Result<Vec<u8>> {
    let field = |index: usize| -> Result<u32> {
        let bytes = xwd.get(index * 4..index * 4 + 4).context("XWD header cut short")?;
        Ok(u32::from_be_bytes(bytes.try_into()?))
    };
    let size = |index: usize| -> Result<usize> { Ok(usize::try_from(field(index)?)?) };
    let (header, format, width, height) = (size(0)?, field(2)?, field(4)?, field(5)?);
    let (lsb_first, bits_per_pixel, bytes_per_line) = (field(7)? == 0, field(11)?, size(12)?);
    let masks = [field(14)?, field(15)?, field(16)?];
    let colors = size(19)?;
    ensure!(
        format == 2 && matches!(bits_per_pixel, 24 | 32),
        "XWD format {format} with {bits_per_pixel} bits per pixel"
    );
    let bytes_per_pixel = usize::try_from(bits_per_pixel / 8)?;
    let pixels = header + colors * 12;
    let (w, h) = (usize::try_from(width)?, usize::try_from(height)?);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let start = pixels + y * bytes_per_line;
        let row = xwd.get(start..start + w * bytes_per_pixel).context("XWD image cut short")?;
        for pixel in row.chunks_exact(bytes_per_pixel) {
            let value = if lsb_first {
                pixel.iter().rev().fold(0u32, |value, byte| value << 8 | u32::from(*byte))
            } else {
                pixel.iter().fold(0u32, |value, byte| value << 8 | u32::from(*byte))
            };
            for mask in masks {
                let channel = (value & mask).checked_shr(mask.trailing_zeros()).unwrap_or(0);
                rgb.push(u8::try_from(channel.min(255))?);
            }
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A 2×1 dump as Xvfb writes it: red then blue, little-endian, in `bits` per pixel, rows
    /// padded to 12 bytes.
    fn dump(bits: u32) -> Vec<u8> {
        let mut header = [0u32; 25];
        header[0] = 100 + 4; // header with a 4-byte window name
        header[1] = 7;
        header[2] = 2;
        header[3] = 24;
        header[4] = 2;
        header[5] = 1;
        header[11] = bits;
        header[12] = 12;
        header[14] = 0xff0000;
        header[15] = 0x00ff00;
        header[16] = 0x0000ff;
        header[19] = 1;
        let mut bytes: Vec<u8> = header.iter().flat_map(|f| f.to_be_bytes()).collect();
        bytes.extend_from_slice(b"xvfb");
        bytes.extend_from_slice(&[0; 12]); // one colormap entry
        let size = usize::try_from(bits / 8).unwrap();
        for pixel in [0x00ff0000u32, 0x000000ff] {
            bytes.extend_from_slice(&pixel.to_le_bytes()[..size]);
        }
        bytes.resize(bytes.len() + 12 - 2 * size, 0);
        bytes
    }

    #[test]
    fn a_screen_dump_becomes_a_png_with_the_same_pixels() {
        for bits in [24, 32] {
            let png = xwd_to_png(&dump(bits)).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut pixels).unwrap();
            assert_eq!((info.width, info.height), (2, 1));
            assert_eq!(&pixels[..6], &[255, 0, 0, 0, 0, 255], "{bits} bits per pixel");
        }
    }

    #[test]
    fn a_cut_dump_is_an_error_not_a_panic() {
        let dump = dump(32);
        for len in [0, 50, 110, dump.len() - 5] {
            assert!(xwd_to_png(&dump[..len]).is_err(), "{len} bytes");
        }
    }
}
