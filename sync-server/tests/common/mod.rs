//! The storage suite's harness: a fresh database per test on the chosen backend, torn down after
//! the test whether it passed or panicked.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use mingizuk_server::storage::{self, Storage};
use mysql_async::prelude::Queryable;
use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// One test's database: the storage opened on it and the URL to open it again.
#[derive(Clone)]
#[allow(dead_code)] // Each test binary compiles this module; not all of them reopen a database.
pub struct TestDb {
    storage: Arc<dyn Storage>,
    url: String,
}

impl TestDb {
    #[allow(dead_code)]
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
    Fut: Future<Output = ()>,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("mingizuk-test.sqlite").display());
            let storage = storage::open(&url).await.expect("open SQLite");
            let outcome = AssertUnwindSafe(test(TestDb { storage: Arc::clone(&storage), url })).catch_unwind().await;
            storage.close().await;
            finish(outcome);
        }
        Backend::MySql => {
            let admin_url = storage::test_mysql_admin_url();
            let admin = mysql_async::Pool::from_url(&admin_url).expect("MySQL admin URL");
            let name = format!("mingizuk_test_{:016x}", rand::rng().random::<u64>());
            let mut conn = admin.get_conn().await.expect("connect to MariaDB/MySQL on 127.0.0.1:3306");
            conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
                .await
                .expect("create the test database");
            let url = format!("{admin_url}/{name}");
            let outcome = match storage::open(&url).await {
                Ok(storage) => {
                    let outcome =
                        AssertUnwindSafe(test(TestDb { storage: Arc::clone(&storage), url })).catch_unwind().await;
                    storage.close().await;
                    outcome
                }
                Err(e) => Err(Box::new(format!("open MySQL: {e}")) as Box<dyn std::any::Any + Send>),
            };
            conn.query_drop(format!("DROP DATABASE `{name}`")).await.expect("drop the test database");
            drop(conn);
            admin.disconnect().await.expect("disconnect");
            finish(outcome);
        }
    }
}

fn finish(outcome: Result<(), Box<dyn std::any::Any + Send>>) {
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A new account with `name` as its nickname (and in its email), as a meetup or a room shows it.
#[allow(dead_code)] // Each test binary compiles this module; not all of them make people.
pub async fn person(storage: &dyn Storage, name: &str) -> mingizuk_server::storage::chat::Sender {
    let new = storage::NewUser {
        id: storage::UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.to_owned(),
        password_hash: None,
    };
    let user = storage.create_user(&new).await.expect("create user");
    mingizuk_server::storage::chat::Sender { id: user.id, nickname: user.nickname }
}

/// Stores a meetup hosted by `host` that ends `ends_in` from now (in the past when negative) and
/// started two hours before, with an optional member limit; returns its id.
#[allow(dead_code)] // Each test binary compiles this module; not all of them make meetups.
pub async fn meetup(
    storage: &dyn Storage,
    host: storage::UserId,
    member_limit: Option<u32>,
    ends_in: chrono::Duration,
) -> storage::chat::MeetupId {
    storage.create_meetup(&new_meetup(host, member_limit, ends_in)).await.expect("create meetup").meetup.id
}

/// The meetup [`meetup`] stores, not stored yet.
#[allow(dead_code)] // Each test binary compiles this module; not all of them make meetups.
pub fn new_meetup(
    host: storage::UserId,
    member_limit: Option<u32>,
    ends_in: chrono::Duration,
) -> storage::meetups::NewMeetup {
    let now = chrono::Utc::now();
    storage::meetups::NewMeetup {
        host,
        title: "한강 러닝".into(),
        contents: "토요일 아침 5km".into(),
        starts_at: now + ends_in - chrono::Duration::hours(2),
        ends_at: now + ends_in,
        member_limit,
        image_id: None,
        place_name: "여의나루역".into(),
        address: "서울특별시 영등포구 여의동로 343".into(),
        lat: 37.5271,
        lng: 126.9326,
        region: "서울특별시 영등포구".into(),
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
