//! Two server instances on one MariaDB database, as a deployment behind a load balancer runs them,
//! announcing documents' changes to each other through the real Redis on 127.0.0.1:6379
//! (`MINGIZUK_TEST_REDIS_URL` names another): a user's devices connected to different instances
//! hear each other live, without reconnecting.
#![allow(clippy::unwrap_used)]

use mingizuk_tests::{Backend, CONVERGE, DAY, Device, JWT_SECRET, START_MS, TestDb, TestServer, converge};
use rand::Rng;

const PASSWORD: &str = "correct horse battery";

/// The settings that join an instance to the others: the test's Redis and channels of its own,
/// so tests running at once do not hear each other.
fn redis(prefix: &str) -> Vec<(String, String)> {
    let url = std::env::var("MINGIZUK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    vec![("MINGIZUK_REDIS_URL".to_owned(), url), ("MINGIZUK_REDIS_CHANNEL".to_owned(), prefix.to_owned())]
}

async fn instance(db: &TestDb, prefix: &str) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    TestServer::start_on(db, listener, JWT_SECRET, redis(prefix)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_on_two_instances_hear_each_other_live() {
    let db = TestDb::new(Backend::MySql).await;
    let prefix = format!("mingizuk:test:{:016x}", rand::rng().random::<u64>());
    let (a, b) = (instance(&db, &prefix).await, instance(&db, &prefix).await);
    let phone = Device::new(&a.url, START_MS).await;
    let laptop = Device::new(&b.url, START_MS + DAY).await;
    phone.work_out(4).await;
    phone.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await, "the phone reaches up to date on instance A");
    laptop.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await, "the laptop reaches up to date on instance B");
    converge(&[&phone, &laptop]).await;

    // Both stay connected, each to its own instance: what one logs now reaches the other through
    // storage and the other instance, both ways.
    let total = laptop.engine.derived().await.total_exp;
    phone.work_out(3).await;
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    converge(&[&phone, &laptop]).await;
    assert!(laptop.engine.derived().await.total_exp > total, "the phone's workout shows on the laptop");
    laptop.clock.advance(DAY);
    laptop.work_out(2).await;
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await);
    converge(&[&phone, &laptop]).await;

    for device in [&phone, &laptop] {
        device.cloud.pause().await;
    }
    a.stop().await;
    b.stop().await;
    db.drop_database().await;
}
