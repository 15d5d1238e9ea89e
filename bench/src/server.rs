//! The servers under test, each a child process on 127.0.0.1: ours (the `mingizuk-server` binary
//! of the same build as the benchmark program) and the baselines, Node scripts in `bench/node`.
//! Starting, waiting until ready, reading memory, stopping. Nothing here measures.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

const STARTUP: Duration = Duration::from_secs(60);

/// The key our server signs access tokens with in the benchmarks, so that a benchmark can also mint
/// tokens for accounts it creates in storage (`mingizuk_server::auth::TokenKeys::from_secret`).
pub const JWT_SECRET: &str = "sync-benchmark-secret-of-enough-length";

/// The workspace this program was built from (for the Node scripts and for `cargo build`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A server process, killed when dropped.
pub struct ServerProcess {
    pub port: u16,
    child: std::process::Child,
}

impl ServerProcess {
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/<pid>/status` field in KiB (`VmRSS:` resident now, `VmHWM:` its peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// CPU time the process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid().to_string())
    }

    /// Waits until the port accepts connections (and the process is still alive).
    async fn ready(&mut self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited at start: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("the server did not start listening on port {}", self.port);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The modification time of the newest file under the server's and the core's sources.
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(modified));
            }
        }
    }
    let mut newest = None;
    for dir in ["sync-server/src", "core/src"] {
        walk(&workspace().join(dir), &mut newest);
    }
    newest
}

/// CPU time (user + system) of a process (`self` for this one), from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // USER_HZ is 100 on every Linux this runs on.
    ticks as f64 / 100.0
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The `mingizuk-server` binary beside this program (built with the same profile into the same
/// target folder if it is missing; a warning if it is older than the server's sources).
/// `--server PATH` names another binary instead (to compare two builds).
pub fn our_binary() -> Result<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = args.iter().position(|a| a == "--server").and_then(|i| args.get(i + 1)) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().context("the program's folder")?;
    let binary = profile_dir.join("mingizuk-server");
    let target_dir = profile_dir.parent().context("the target folder")?;
    if binary.exists() {
        if let Some(source) = newest_source()
            && binary.metadata().and_then(|m| m.modified()).is_ok_and(|built| built < source)
        {
            eprintln!(
                "warning: {binary:?} is older than the server's sources; rebuild it with `cargo build --release -p mingizuk-server -p mingizuk-bench`"
            );
        }
        return Ok(binary);
    }
    // Building only the server may unify features differently from the build that made this
    // program and recompile dependencies, so it happens only when the binary is missing.
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building mingizuk-server ({profile} profile) into {target_dir:?}");
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--profile", profile, "-p", "mingizuk-server", "--manifest-path"])
        .arg(workspace().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running {cargo} build"))?;
    if !status.success() || !binary.exists() {
        bail!("no server binary at {binary:?}; run `cargo build --release -p mingizuk-server -p mingizuk-bench` first");
    }
    Ok(binary)
}

/// Starts our server on `database_url` with its data folder `data_dir`.
pub async fn start_ours(binary: &Path, database_url: &str, data_dir: &Path) -> Result<ServerProcess> {
    let port = free_port()?;
    let child = Command::new(binary)
        .env("MINGIZUK_LISTEN", format!("127.0.0.1:{port}"))
        .env("MINGIZUK_DATABASE_URL", database_url)
        .env("MINGIZUK_DATA_DIR", data_dir)
        .env("MINGIZUK_JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {binary:?}"))?;
    let mut server = ServerProcess { port, child };
    server.ready().await?;
    Ok(server)
}

/// Starts `node bench/node/<script> <args…>`, which must listen on the port given as its first
/// argument.
pub async fn start_node(script: &str, args: &[&std::ffi::OsStr]) -> Result<ServerProcess> {
    let port = free_port()?;
    let child = Command::new("node")
        .arg(workspace().join("bench/node").join(script))
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting node (is Node.js installed? scripts/setup.sh installs it)")?;
    let mut server = ServerProcess { port, child };
    server.ready().await?;
    Ok(server)
}

/// The version of `node`, for the report.
pub fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}
