//! The storage suite's harness: a fresh database per test on the chosen backend, torn down after
//! the test whether it passed or panicked.

use std::future::Future;
use std::sync::Arc;

use mingizuk_server::storage::{self, Storage};
use mysql_async::prelude::Queryable;
use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// The MariaDB/MySQL server the suite creates its databases on: root without a password on
/// 127.0.0.1:3306 unless `MINGIZUK_TEST_MYSQL_URL` names another (without a database path).
fn mysql_admin_url() -> String {
    std::env::var("MINGIZUK_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

/// One test's database: the storage opened on it and the URL to open it again.
#[derive(Clone)]
#[allow(dead_code)] // Each test binary compiles this module; not all of them reopen a database.
pub struct TestDb {
    storage: Arc<dyn Storage>,
    url: String,
}

impl TestDb {
    pub fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    #[allow(dead_code)]
    pub fn shared(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.storage)
    }

    #[allow(dead_code)]
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Runs `test` on a fresh database of `backend`, then closes and removes the database, then
/// re-raises the test's panic, if any.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("mingizuk-test.sqlite").display());
            let storage = storage::open(&url).await.expect("open SQLite");
            let outcome = tokio::spawn(test(TestDb { storage: Arc::clone(&storage), url })).await;
            storage.close().await;
            finish(outcome);
        }
        Backend::MySql => {
            let admin_url = mysql_admin_url();
            let admin = mysql_async::Pool::from_url(&admin_url).expect("MySQL admin URL");
            let name = format!("mingizuk_test_{:016x}", rand::rng().random::<u64>());
            let mut conn = admin.get_conn().await.expect("connect to MariaDB/MySQL on 127.0.0.1:3306");
            conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
                .await
                .expect("create the test database");
            let url = format!("{admin_url}/{name}");
            let outcome = match storage::open(&url).await {
                Ok(storage) => {
                    let outcome = tokio::spawn(test(TestDb { storage: Arc::clone(&storage), url })).await;
                    storage.close().await;
                    outcome
                }
                Err(e) => tokio::spawn(async move { panic!("open MySQL: {e}") }).await,
            };
            conn.query_drop(format!("DROP DATABASE `{name}`")).await.expect("drop the test database");
            drop(conn);
            admin.disconnect().await.expect("disconnect");
            finish(outcome);
        }
    }
}

fn finish(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task did not finish: {e}"),
        }
    }
}

/// Instantiates each listed conformance test for both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::common::run(crate::common::Backend::Sqlite, super::$name).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::common::run(crate::common::Backend::MySql, super::$name).await;
                }
            )*
        }
    };
}
