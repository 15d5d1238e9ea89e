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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
    let purge = tokio::spawn(auth::run_daily_purge(storage.clone()));
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let result = server::serve(listener, AppState::new(config, storage.clone()), server::shutdown_signal()).await;
    purge.abort();
    storage.close().await;
    tracing::info!("stopped");
    result.context("serving")
}
