//! The `mingizuk-server` binary: configuration in, storage opened, server run until SIGTERM or
//! Ctrl-C. Everything it calls lives in the library.

use anyhow::Context;
use mingizuk_server::{AppState, Config, auth, server, storage};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: with glibc each thread's arena kept what it once held, and an
/// idle server that had served a burst sat above 200 MB while its live heap was ~22 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The shortest signing key accepted for HS256.
const MIN_JWT_SECRET_BYTES: usize = 32;

/// mimalloc reads its options from the environment before `main`, and they cannot be set from safe
/// Rust afterwards; so a server started without `MIMALLOC_PURGE_DELAY` replaces itself (same pid,
/// same arguments) with one that has it at 0: freed memory then goes back to the OS at once, and an
/// idle server stays under 50 MB after a burst instead of ~100 MB. Set the variable to opt out.
fn with_allocator_settings() {
    #[cfg(unix)]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let error = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("MIMALLOC_PURGE_DELAY", "0")
                .exec();
            // Only reached if the exec failed: run as we are.
            eprintln!("mingizuk-server: could not restart with MIMALLOC_PURGE_DELAY=0 ({error}); continuing");
        }
    }
}

fn main() -> anyhow::Result<()> {
    with_allocator_settings();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = Config::load().context("loading the configuration")?;
    tracing::info!(?config, "starting mingizuk-server");
    match &config.jwt_secret {
        Some(secret) if secret.expose().len() < MIN_JWT_SECRET_BYTES => {
            anyhow::bail!("jwt_secret must be at least {MIN_JWT_SECRET_BYTES} bytes (use 32 random bytes, base64)")
        }
        // Several instances on one MySQL must share a key, or each refuses the others' tokens.
        None if config.database_url.is_mysql() => anyhow::bail!("a MySQL deployment needs MINGIZUK_JWT_SECRET"),
        _ => {}
    }
    let storage = storage::open(config.database_url.expose())
        .await
        .with_context(|| format!("opening the database {}", config.database_url.redacted()))?;
    // Runs at start and then daily; ended with the server.
    let purge =
        tokio::spawn(auth::run_daily_purge(storage.clone(), mingizuk_server::media::MediaFolder::new(&config.media)));
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let result = server::serve(listener, AppState::new(config, storage.clone()), server::shutdown_signal()).await;
    purge.abort();
    storage.close().await;
    tracing::info!("stopped");
    result.context("serving")
}
