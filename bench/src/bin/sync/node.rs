//! The comparison with the reference automerge-repo server in Node (`--with-node`): the same
//! bare-client workload against it, and the JavaScript automerge-repo client
//! (`bench/node/load.mjs`) against both servers. Also the throwaway MariaDB database of `--mysql`.

use std::process::Command;

use anyhow::{Context, Result, bail};
use mysql_async::prelude::Queryable;

use crate::peer::Target;
use crate::server::{self, workspace};
use crate::{Settings, print_throughput, reconnect_median, workload};

/// The reference server's figures are acknowledgements, not durable commits; said on every line.
const NOT_DURABLE: &str = "acknowledged, not durable: no fsync, answers before its throttled write";

/// Runs `bench/node/load.mjs` against a sync URL; returns its JSON report.
fn load(url: &str, credentials: Option<(&str, &str)>, clients: usize, seconds: f64) -> Result<serde_json::Value> {
    let mut command = Command::new("node");
    command.arg(workspace().join("bench/node/load.mjs")).args(["--url", url]);
    if let Some((http, token)) = credentials {
        command.args(["--http", http, "--token", token]);
    }
    let out = command
        .args(["--clients", &clients.to_string(), "--seconds", &seconds.to_string()])
        .output()
        .context("running node bench/node/load.mjs")?;
    if !out.status.success() {
        bail!("load.mjs failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8(out.stdout)?;
    serde_json::from_str(line.trim()).with_context(|| format!("load.mjs printed {line:?}"))
}

fn print_load(label: &str, report: &serde_json::Value) -> f64 {
    let per_second = report["per_second"].as_f64().unwrap_or(0.0);
    println!(
        "{label}: {} repos x {:.1} s: {per_second:.0} changes/s ({} changes; round trip p50 {:.1} ms, p99 {:.1} ms)",
        report["clients"],
        report["seconds"].as_f64().unwrap_or(0.0),
        report["changes"],
        report["p50_ms"].as_f64().unwrap_or(0.0),
        report["p99_ms"].as_f64().unwrap_or(0.0)
    );
    per_second
}

/// `ours` is our server's durable changes/s and reconnect median from the SQLite run.
pub async fn compare(settings: &Settings, ours: f64, ours_reconnect: Option<f64>) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let reference = server::start_reference(&dir.path().join("reference")).await?;
    println!(
        "== reference automerge-repo server (Node {}, NodeFSStorageAdapter), pid {}",
        node_version(),
        reference.pid()
    );
    let target = Target { ws_url: format!("ws://127.0.0.1:{}", reference.port), bearer: None };
    let theirs = workload::changes_per_second(&vec![target.clone(); settings.clients], settings.seconds).await?;
    print_throughput(&format!("changes (bare protocol clients; {NOT_DURABLE})"), &theirs, "");
    println!(
        "ratio, same bare clients: ours (durable) / reference (not durable) = {:.1}x   target >= 5x",
        ours / theirs.per_second()
    );
    let their_reconnect = reconnect_median(&target, settings).await?;
    if let (Some(o), Some(t)) = (ours_reconnect, their_reconnect) {
        println!("ratio, reconnect: reference / ours = {:.1}x (higher: ours faster)", t / o);
    }

    // The JavaScript client against both, one after the other, on a fresh server of ours.
    let js_clients = settings.js_clients;
    let theirs_js = print_load(
        &format!("JS client -> reference ({NOT_DURABLE})"),
        &load(&target.ws_url, None, js_clients, settings.seconds)?,
    );
    drop(reference);
    let binary = server::our_binary()?;
    let url = format!("sqlite://{}", dir.path().join("ours.sqlite").display());
    let ours_server = server::start_ours(&binary, &url, dir.path()).await?;
    let http = reqwest::Client::new();
    let token = crate::peer::sign_up(&http, &ours_server.http_url(), "js@example.com", "js").await?;
    let ours_js = print_load(
        "JS client -> our server (durable)",
        &load(
            &format!("ws://127.0.0.1:{}/v1/sync", ours_server.port),
            Some((&ours_server.http_url(), &token)),
            js_clients,
            settings.seconds,
        )?,
    );
    println!(
        "ratio, same JS client: ours / reference = {:.2}x (all repos run in one Node process, which is the limit here: this compares the client more than the servers)",
        ours_js / theirs_js
    );
    Ok(())
}

fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// A throwaway database on the MariaDB/MySQL server `MINGIZUK_BENCH_MYSQL_URL` names
/// (`mysql://root@127.0.0.1:3306` by default), dropped at the end.
pub struct MySqlDatabase {
    admin: String,
    name: String,
    url: String,
}

impl MySqlDatabase {
    pub async fn create() -> Result<MySqlDatabase> {
        let admin =
            std::env::var("MINGIZUK_BENCH_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
        let name = format!("mingizuk_bench_{:016x}", rand_suffix());
        let pool = mysql_async::Pool::from_url(admin.as_str())?;
        let mut conn = pool.get_conn().await.context("connecting to MariaDB/MySQL")?;
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).await?;
        drop(conn);
        pool.disconnect().await?;
        let url = format!("{admin}/{name}");
        Ok(MySqlDatabase { admin, name, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn drop(self) {
        let Ok(pool) = mysql_async::Pool::from_url(self.admin.as_str()) else { return };
        if let Ok(mut conn) = pool.get_conn().await {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name)).await;
        }
        let _ = pool.disconnect().await;
    }
}

fn rand_suffix() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}
