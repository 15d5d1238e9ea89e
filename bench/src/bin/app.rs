//! Desktop app benchmark (issue 5). Under a display (run it with `xvfb-run`), prints:
//! - the time from launching the app binary to the first painted home screen, on a device that
//!   holds a year of heavy use (20 completions a day) — median, best and worst of N launches;
//! - the memory of the app and every process it started (the WebKit web and network processes),
//!   as proportional set size (PSS, shared pages split between the processes that map them) and
//!   as the plain sum of resident sets, a few seconds after the home screen was painted;
//! - the size of the Linux `.deb` when one was built (`target/*/bundle/deb/*.deb`).
//!
//! The app writes the instant of its first painted home screen to `$MINGIZUK_PAINT_MARK` (the
//! home screen calls the `painted` command two animation frames after it first shows its data).
//!
//! Usage: `xvfb-run -a cargo run --release -p mingizuk-bench --bin app [-- --launches N --days D
//! --app PATH --data DIR]` (the app binary defaults to the one beside this program: build it with the same
//! profile, `cargo build --release -p mingizuk-app`).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use mingizuk_bench::{DAY_MS, arg, build_year, text_arg};

const LAUNCH_PATIENCE: Duration = Duration::from_secs(60);
/// How long after the first paint the memory is read (the app settles: sync gives up offline,
/// the web process finishes its first layout).
const SETTLE: Duration = Duration::from_secs(3);

fn now_ms() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(i64::MAX)
}

/// Every process whose parent chain reaches `root` (and `root` itself).
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // The command name is in parentheses and may hold spaces: fields follow the last ')'.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for &(pid, ppid) in &parents {
            if tree.contains(&ppid) && !tree.contains(&pid) {
                tree.push(pid);
                grew = true;
            }
        }
    }
    tree
}

/// A `kB` field of a /proc file, in KiB.
fn kib(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

struct Launch {
    first_paint: Duration,
    pss_kib: u64,
    rss_kib: u64,
    processes: usize,
}

fn launch(app: &Path, data: &Path) -> Result<Launch> {
    let mark = data.join("painted.mark");
    let _ = std::fs::remove_file(&mark);
    let home = data.join("home");
    let started_ms = now_ms();
    let started = Instant::now();
    let mut child = Command::new(app)
        .env("MINGIZUK_DATA_DIR", data)
        // Nothing listens there: the app is offline, as on a train.
        .env("MINGIZUK_SERVER", "http://127.0.0.1:9")
        .env("MINGIZUK_PAINT_MARK", &mark)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("start {}", app.display()))?;
    let painted_ms = loop {
        if let Ok(text) = std::fs::read_to_string(&mark)
            && let Ok(ms) = text.trim().parse::<i64>()
        {
            break ms;
        }
        if let Some(status) = child.try_wait()? {
            bail!("the app exited ({status}) before painting its home screen");
        }
        if started.elapsed() > LAUNCH_PATIENCE {
            child.kill().ok();
            bail!("no home screen painted within {LAUNCH_PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(SETTLE);
    let tree = process_tree(child.id());
    let pss_kib = tree.iter().map(|pid| kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:")).sum();
    let rss_kib = tree.iter().map(|pid| kib(&format!("/proc/{pid}/status"), "VmRSS:")).sum();
    // The web processes leave with the app: end the whole group the app started.
    for pid in tree.iter().rev() {
        Command::new("kill").arg(pid.to_string()).status().ok();
    }
    child.wait().ok();
    Ok(Launch {
        first_paint: Duration::from_millis(u64::try_from(painted_ms - started_ms).unwrap_or(0)),
        pss_kib,
        rss_kib,
        processes: tree.len(),
    })
}

fn deb_size() -> Option<(PathBuf, u64)> {
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?;
    for profile in ["release", "debug"] {
        let dir = target.join(profile).join("bundle/deb");
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "deb") {
                let size = entry.metadata().ok()?.len();
                return Some((path, size));
            }
        }
    }
    None
}

fn main() -> Result<()> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("no display: run this under xvfb-run (xvfb-run -a cargo run ... --bin app)");
    }
    let launches = arg("--launches", 5).max(1);
    let days = arg("--days", 365);
    let app = match text_arg("--app", "") {
        path if !path.is_empty() => PathBuf::from(path),
        _ => std::env::current_exe()?.parent().context("the program's folder")?.join("mingizuk"),
    };
    if !app.exists() {
        bail!("{} is missing: cargo build -p mingizuk-app with the same profile", app.display());
    }
    let dir = tempfile::tempdir()?;
    // `--data DIR` keeps the device (to launch the app on it by hand afterwards); a folder that
    // already holds one is used as it is.
    let data = match text_arg("--data", "") {
        path if !path.is_empty() => PathBuf::from(path),
        _ => dir.path().join("device"),
    };
    std::fs::create_dir_all(&data)?;
    if data.join("device.sqlite").exists() {
        println!("device: {} as it is", data.display());
    } else {
        // The year ends today, so the home screen's tracker and the chart show full pages.
        let start_ms = now_ms() - days as i64 * DAY_MS;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let built = Instant::now();
        let completions = runtime.block_on(build_year(&data.join("device.sqlite"), start_ms, 9 * 60, days))?;
        std::fs::write(data.join("device.json"), r#"{"onboarded": true}"#)?;
        println!(
            "device: {days} days, {completions} completions ({:.1} MB of SQLite, built in {:.1} s)",
            std::fs::metadata(data.join("device.sqlite"))?.len() as f64 / 1e6,
            built.elapsed().as_secs_f64()
        );
    }

    let mut paints = Vec::new();
    let mut pss = Vec::new();
    let mut rss = Vec::new();
    for i in 0..launches {
        let run = launch(&app, &data)?;
        println!(
            "launch {}: first paint {:.0} ms, memory {:.1} MB PSS ({:.1} MB RSS summed) over {} processes",
            i + 1,
            run.first_paint.as_secs_f64() * 1e3,
            run.pss_kib as f64 / 1024.0,
            run.rss_kib as f64 / 1024.0,
            run.processes
        );
        paints.push(run.first_paint);
        pss.push(run.pss_kib);
        rss.push(run.rss_kib);
    }
    paints.sort();
    pss.sort_unstable();
    rss.sort_unstable();
    let median_paint = paints[paints.len() / 2];
    let median_pss = pss[pss.len() / 2] as f64 / 1024.0;
    println!(
        "first paint of the home screen: median {:.0} ms (best {:.0}, worst {:.0}); target <= 1000 ms",
        median_paint.as_secs_f64() * 1e3,
        paints[0].as_secs_f64() * 1e3,
        paints[paints.len() - 1].as_secs_f64() * 1e3
    );
    println!(
        "memory after loading the year: median {median_pss:.1} MB PSS, {:.1} MB RSS summed; target <= 200 MB",
        rss[rss.len() / 2] as f64 / 1024.0
    );
    let deb = deb_size();
    match &deb {
        Some((path, size)) => println!("package: {} is {:.1} MB; target <= 15 MB", path.display(), *size as f64 / 1e6),
        None => println!("package: no .deb found (npm --prefix app exec -- tauri build --bundles deb)"),
    }
    println!(
        "{{\"bench\":\"app\",\"days\":{days},\"launches\":{launches},\"first_paint_ms\":{:.0},\"pss_mb\":{median_pss:.1},\"deb_bytes\":{}}}",
        median_paint.as_secs_f64() * 1e3,
        deb.map_or(0, |(_, size)| size)
    );
    Ok(())
}
