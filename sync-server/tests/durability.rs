//! A server killed with SIGKILL loses nothing it acknowledged. The real server binary runs as a
//! child process on 127.0.0.1 over SQLite and over MariaDB; real client engines sync with it.
//!
//! - Round after round, a device makes a change and waits until its status says up to date; at
//!   that moment the server is killed and started again, and a fresh device of the same user,
//!   never connected before, pulls the account and must find the change (`DURABILITY_ROUNDS`,
//!   100 by default).
//! - Several devices push while the server is killed at random moments; after the last restart
//!   everything converges with nothing lost and nothing doubled.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mingizuk_client::core::model::RoutineId;
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Cloud, Engine, ManualClock};
use mysql_async::prelude::Queryable;
use rand::Rng;

/// 2026-11-02 00:00 UTC.
const START_MS: i64 = 1_793_577_600_000;
const MINUTE: i64 = 60_000;
const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(60);

fn rounds() -> usize {
    std::env::var("DURABILITY_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// The server as a child process, restartable on the same port and database.
struct ServerProcess {
    port: u16,
    database_url: String,
    data_dir: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    fn start(database_url: String, data_dir: PathBuf) -> ServerProcess {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = ServerProcess { port, database_url, data_dir, child: None };
        server.spawn();
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_mingizuk-server"))
            .env("MINGIZUK_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("MINGIZUK_DATABASE_URL", &self.database_url)
            .env("MINGIZUK_DATA_DIR", &self.data_dir)
            .env("MINGIZUK_JWT_SECRET", "durability-test-secret-of-enough-length")
            .env("RUST_LOG", std::env::var("DURABILITY_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Waits until `/healthz` answers.
    async fn ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
                if stream.write_all(request.as_bytes()).await.is_ok() {
                    let mut answer = String::new();
                    let _ = stream.read_to_string(&mut answer).await;
                    if answer.starts_with("HTTP/1.1 200") {
                        return;
                    }
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    async fn restart(&mut self) {
        self.kill();
        self.spawn();
        self.ready().await;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database for one test: a SQLite file, or a throwaway MariaDB database.
async fn database(mysql: bool, dir: &std::path::Path) -> (String, Option<String>) {
    if !mysql {
        return (format!("sqlite://{}", dir.join("server.sqlite").display()), None);
    }
    let admin = mingizuk_server::storage::test_mysql_admin_url();
    let name = format!("mingizuk_kill_{:016x}", rand::random::<u64>());
    let pool = mysql_async::Pool::from_url(&admin).unwrap();
    let mut conn = pool.get_conn().await.expect("connect to MariaDB/MySQL on 127.0.0.1:3306");
    conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).await.unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
    (format!("{admin}/{name}"), Some(format!("{admin}|{name}")))
}

async fn drop_database(handle: Option<String>) {
    let Some((admin, name)) = handle.as_deref().and_then(|h| h.split_once('|')) else { return };
    let pool = mysql_async::Pool::from_url(admin).unwrap();
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await.unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
}

struct Device {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    cloud: Cloud,
    _dir: tempfile::TempDir,
}

impl Device {
    async fn new(server: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START_MS, 9 * 60));
        let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock.clone()).await.unwrap());
        let cloud = Cloud::new(engine.clone(), server, dir.path()).unwrap();
        Device { engine, clock, cloud, _dir: dir }
    }

    /// Completes the next action of `routine` (drawing a character or restarting the routine
    /// when the rules ask for it).
    async fn complete_one(&self, routine: RoutineId) {
        self.clock.advance(3 * MINUTE);
        let routine = self.engine.routine(routine).await.unwrap();
        let Some(entry) = routine.entries.iter().find(|e| !e.done) else {
            self.engine.restart(routine.id).await.unwrap();
            return Box::pin(self.complete_one(routine.id)).await;
        };
        if let Err(e) = self.engine.complete_action(routine.id, entry.id).await {
            assert_eq!(e.code(), "need_character", "{e}");
            draw_unless_synced(&self.engine).await;
            self.engine.complete_action(routine.id, entry.id).await.unwrap();
        }
    }

    async fn completions(&self) -> usize {
        self.engine.personal().await.actions.len()
    }
}

/// Draws a character, unless another device's draw arrived by sync since the device was told to
/// draw one (then a character is growing and a draw is refused with `character_growing`).
async fn draw_unless_synced(engine: &Engine) {
    if let Err(e) = engine.draw_character().await {
        assert_eq!(e.code(), "character_growing", "{e}");
    }
}

async fn acknowledged_changes_survive_a_kill(mysql: bool) {
    // The devices' warnings (why a sync connection ended) show with a failure's output.
    // `RUST_LOG=mingizuk_client=trace` shows every sync message a device sends and receives.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
    let dir = tempfile::tempdir().unwrap();
    let (url, handle) = database(mysql, dir.path()).await;
    let mut server = ServerProcess::start(url, dir.path().to_owned());
    server.ready().await;
    let writer = Device::new(&server.url()).await;
    writer.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(writer.cloud.wait_up_to_date(WAIT).await);
    let routine = writer.engine.routines().await[0].id;
    for round in 0..rounds() {
        writer.complete_one(routine).await;
        let expected = writer.completions().await;
        assert!(
            writer.cloud.wait_up_to_date(WAIT).await,
            "round {round}: the writer reaches up to date; its status: {:?}",
            *writer.cloud.status().borrow()
        );
        server.restart().await;
        let fresh = Device::new(&server.url()).await;
        fresh.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
        assert!(fresh.cloud.wait_up_to_date(WAIT).await, "round {round}: the fresh device reaches up to date");
        assert_eq!(fresh.completions().await, expected, "round {round}: the acknowledged change survived");
        fresh.cloud.pause().await;
    }
    writer.cloud.pause().await;
    server.kill();
    drop_database(handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_a_kill_on_sqlite() {
    acknowledged_changes_survive_a_kill(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_a_kill_on_mysql() {
    acknowledged_changes_survive_a_kill(true).await;
}

async fn kills_at_random_moments_lose_and_double_nothing(mysql: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (url, handle) = database(mysql, dir.path()).await;
    let mut server = ServerProcess::start(url, dir.path().to_owned());
    server.ready().await;
    let first = Device::new(&server.url()).await;
    first.cloud.sign_up("muneo@example.com", PASSWORD, "muneo").await.unwrap();
    let mut devices = vec![first];
    for _ in 0..2 {
        let device = Device::new(&server.url()).await;
        device.cloud.sign_in("muneo@example.com", PASSWORD).await.unwrap();
        devices.push(device);
    }
    // A routine of each device's own, so that no two devices complete the same entry.
    let mut routines = Vec::new();
    for (i, device) in devices.iter().enumerate() {
        let picks =
            [ActionPick { action: "squat".into(), count: 10 }, ActionPick { action: "plank".into(), count: 30 }];
        routines.push(device.engine.create_routine(&format!("own {i}"), &picks).await.unwrap());
    }
    let devices = Arc::new(devices);
    let per_device = 25;
    let pushing = {
        let devices = devices.clone();
        tokio::spawn(async move {
            for _ in 0..per_device {
                for (device, routine) in devices.iter().zip(&routines) {
                    device.complete_one(*routine).await;
                    let pause = Duration::from_millis(rand::rng().random_range(0..40));
                    tokio::time::sleep(pause).await;
                }
            }
        })
    };
    let mut kills = 0;
    while !pushing.is_finished() {
        let pause = Duration::from_millis(rand::rng().random_range(20..300));
        tokio::time::sleep(pause).await;
        server.restart().await;
        kills += 1;
    }
    pushing.await.unwrap();
    assert!(kills > 0);
    for device in devices.iter() {
        assert!(device.cloud.wait_up_to_date(WAIT).await, "every device resyncs after the last restart");
    }
    // Everyone ends with every completion, each once.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut counts = Vec::new();
        for device in devices.iter() {
            counts.push(device.completions().await);
        }
        if counts.iter().all(|c| *c == 3 * per_device) {
            break;
        }
        assert!(counts.iter().all(|c| *c <= 3 * per_device), "a completion was doubled: {counts:?}");
        assert!(tokio::time::Instant::now() < deadline, "devices did not converge: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = Device::new(&server.url()).await;
    fresh.cloud.sign_in("muneo@example.com", PASSWORD).await.unwrap();
    assert!(fresh.cloud.wait_up_to_date(WAIT).await);
    assert_eq!(fresh.completions().await, 3 * per_device, "the server holds every completion once");
    for device in devices.iter() {
        device.cloud.pause().await;
    }
    fresh.cloud.pause().await;
    server.kill();
    drop_database(handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_at_random_moments_lose_and_double_nothing_on_sqlite() {
    kills_at_random_moments_lose_and_double_nothing(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_at_random_moments_lose_and_double_nothing_on_mysql() {
    kills_at_random_moments_lose_and_double_nothing(true).await;
}
