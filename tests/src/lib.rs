//! What the end-to-end tests share: a real sync server on 127.0.0.1:0 over a fresh database of
//! either backend, and headless devices (a real engine on its own SQLite file, with a clock set
//! by hand) that sign in to it.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mingizuk_client::core::automerge::AutoCommit;
use mingizuk_client::{Cloud, Engine, ManualClock};
use mingizuk_server::storage::{self, Storage};
use mingizuk_server::{AppState, Config};
use mysql_async::prelude::Queryable;
use tokio::sync::oneshot;

/// 2026-11-02 00:00 UTC.
pub const START_MS: i64 = 1_793_577_600_000;
pub const MINUTE: i64 = 60_000;
pub const DAY: i64 = 24 * 60 * MINUTE;
/// How long a test waits for devices to converge before failing.
pub const CONVERGE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// The MariaDB/MySQL server tests create databases on (see `storage::test_mysql_admin_url`).
pub use mingizuk_server::storage::test_mysql_admin_url as mysql_admin_url;

/// A fresh database: a SQLite file in a temporary folder, or a throwaway MySQL database dropped
/// by [`TestDb::drop_database`].
pub struct TestDb {
    pub url: String,
    mysql_name: Option<String>,
    dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("server.sqlite").display());
                TestDb { url, mysql_name: None, dir }
            }
            Backend::MySql => {
                let admin = mysql_admin_url();
                let name = format!("mingizuk_e2e_{:016x}", rand::random::<u64>());
                let pool = mysql_async::Pool::from_url(&admin).unwrap();
                let mut conn = pool.get_conn().await.expect("connect to MariaDB/MySQL on 127.0.0.1:3306");
                conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
                    .await
                    .unwrap();
                drop(conn);
                pool.disconnect().await.unwrap();
                TestDb { url: format!("{admin}/{name}"), mysql_name: Some(name), dir }
            }
        }
    }

    pub async fn drop_database(self) {
        if let Some(name) = &self.mysql_name {
            let pool = mysql_async::Pool::from_url(mysql_admin_url()).unwrap();
            let mut conn = pool.get_conn().await.unwrap();
            conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await.unwrap();
            drop(conn);
            pool.disconnect().await.unwrap();
        }
    }
}

/// A server running in this process on 127.0.0.1:0.
pub struct TestServer {
    pub url: String,
    pub storage: Arc<dyn Storage>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// The signing key test servers use unless a test picks another.
pub const JWT_SECRET: &str = "end-to-end-test-secret-of-enough-length";

impl TestServer {
    pub async fn start(db: &TestDb) -> TestServer {
        Self::start_at(db, JWT_SECRET, "127.0.0.1:0").await
    }

    /// A server on a given address (to come back where a stopped one was) with a given key.
    pub async fn start_at(db: &TestDb, jwt_secret: &str, address: &str) -> TestServer {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        Self::start_on(db, listener, jwt_secret, Vec::new()).await
    }

    /// A server on `listener` with `env` added to its configuration (a provider's settings, say).
    pub async fn start_on(
        db: &TestDb,
        listener: tokio::net::TcpListener,
        jwt_secret: &str,
        env: Vec<(String, String)>,
    ) -> TestServer {
        // The server's own files (uploaded images) go to the database's temporary folder.
        let data = db.dir.path().join("server-data");
        let mut vars: std::collections::HashMap<String, String> = [
            ("MINGIZUK_JWT_SECRET".to_owned(), jwt_secret.to_owned()),
            ("MINGIZUK_DATA_DIR".to_owned(), data.display().to_string()),
        ]
        .into();
        vars.extend(env);
        let config = Config::from_sources(None, &vars).unwrap();
        let storage = storage::open(&db.url).await.unwrap();
        let state = AppState::new(config, storage.clone());
        let address: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            mingizuk_server::server::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer { url: format!("http://{address}"), storage, stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.abort();
        let _ = self.task.await;
        self.storage.close().await;
    }
}

/// One device: a real engine on its own database file, a clock set by hand, and its link to
/// the server.
pub struct Device {
    pub engine: Arc<Engine>,
    pub clock: Arc<ManualClock>,
    pub cloud: Cloud,
    pub dir: tempfile::TempDir,
}

impl Device {
    pub async fn new(server_url: &str, at_ms: i64) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(at_ms, 9 * 60));
        let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock.clone()).await.unwrap());
        let cloud = Cloud::new(engine.clone(), server_url, dir.path()).unwrap();
        Device { engine, clock, cloud, dir }
    }

    /// Completes `n` actions of the main routine (restarting it when done), a few minutes apart.
    pub async fn work_out(&self, n: usize) {
        for _ in 0..n {
            self.clock.advance(7 * MINUTE);
            let routines = self.engine.routines().await;
            let routine = &routines[0];
            match routine.entries.iter().find(|e| !e.done) {
                Some(entry) => match self.engine.complete_action(routine.id, entry.id).await {
                    Ok(_) => {}
                    Err(e) if e.code() == "need_character" => {
                        // Another device's draw may arrive by sync between the two calls.
                        if let Err(e) = self.engine.draw_character().await {
                            assert_eq!(e.code(), "character_growing", "{e}");
                        }
                        self.engine.complete_action(routine.id, entry.id).await.unwrap();
                    }
                    Err(e) => panic!("completing an action failed: {e}"),
                },
                None => self.engine.restart(routine.id).await.unwrap(),
            }
        }
    }

    /// The heads of every document, by document id: equal on two devices exactly when they hold
    /// the same history.
    pub async fn heads(&self) -> BTreeMap<uuid::Uuid, Vec<String>> {
        let mut out = BTreeMap::new();
        for doc in self.engine.export_documents().await.unwrap() {
            let mut loaded = AutoCommit::load(&doc.bytes).unwrap();
            let mut heads: Vec<String> = loaded.get_heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            out.insert(doc.id, heads);
        }
        out
    }

    /// What the user sees that sync must make equal: routines, derived state and collection.
    pub async fn visible(&self) -> String {
        format!(
            "{:?}\n{:?}\n{:?}",
            self.engine.routines().await,
            self.engine.derived().await,
            self.engine.collection().await
        )
    }
}

/// The app closed and opened again on the same data folder, its server at `server_url`.
pub async fn reopened(dir: &Path, server_url: &str, at_ms: i64) -> (Arc<Engine>, Cloud) {
    let clock = Arc::new(ManualClock::new(at_ms, 9 * 60));
    let engine = Arc::new(Engine::open(&dir.join("device.sqlite"), clock).await.unwrap());
    let cloud = Cloud::new(engine.clone(), server_url, dir).unwrap();
    (engine, cloud)
}

/// Waits until every device holds the same documents and shows the same state.
pub async fn converge(devices: &[&Device]) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let first = devices[0].heads().await;
        let mut same = true;
        for device in &devices[1..] {
            if device.heads().await != first {
                same = false;
                break;
            }
        }
        if same {
            let shown = devices[0].visible().await;
            for device in &devices[1..] {
                assert_eq!(device.visible().await, shown, "same documents must show the same state");
            }
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "devices did not converge in {CONVERGE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
