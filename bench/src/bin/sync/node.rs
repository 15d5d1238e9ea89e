//! The comparison with the reference automerge-repo server in Node (`--with-node`): the same
//! bare-client workload against it, and the JavaScript automerge-repo client
//! (`bench/node/load.mjs`) against both servers.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::peer::Target;
use crate::{Settings, print_throughput, reconnect_median, workload};
use mingizuk_bench::server::{self, node_version, workspace};

/// The reference server's figures are acknowledgements, not durable commits; said on every line.
const NOT_DURABLE: &str = "acknowledged, not durable: no fsync, answers before its throttled write";

/// Runs `bench/node/load.mjs` against a sync URL (with `credentials`, our server's address and
/// the access tokens, comma-separated, the repos take in turn); returns its JSON report.
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
    let reference = server::start_node("reference-server.mjs", &[dir.path().join("reference").as_os_str()]).await?;
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
    let token = crate::accounts(&ours_server, js_clients, "js").await?.join(",");
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
