//! One document this app cannot read (written by a newer version of the app, or by a faulty
//! peer) is set aside, and every other document of the account goes on syncing both ways; the
//! status says a document could not be used instead of dropping the connection over and over.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mingizuk_client::core::automerge::transaction::Transactable;
use mingizuk_client::core::automerge::{ActorId, AutoCommit, ROOT};
use mingizuk_client::core::schema::DocKind;
use mingizuk_client::core::wire;
use mingizuk_client::{Engine, SyncPhase};
use mingizuk_server::storage::{self, ChunkKey, ContentHash, DocumentId};
use mingizuk_tests::{Backend, CONVERGE, DAY, Device, JWT_SECRET, START_MS, TestDb, TestServer};

const PASSWORD: &str = "correct horse battery";

/// How many actions the device has logged.
async fn actions(engine: &Engine) -> usize {
    engine.personal().await.actions.len()
}

/// Waits until `device` has logged `n` actions (by sync), failing after `CONVERGE`.
async fn until_it_has(device: &Device, n: usize) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while actions(&device.engine).await != n {
        assert!(tokio::time::Instant::now() < deadline, "{} actions, not {n}", actions(&device.engine).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_this_app_cannot_read_does_not_stop_the_others_from_syncing() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // October and November logged on the phone, then the phone and a laptop on one account.
    let phone = Device::new(&server.url, START_MS - 31 * DAY).await;
    phone.work_out(2).await;
    phone.clock.advance(31 * DAY);
    phone.work_out(2).await;
    phone.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    let laptop = Device::new(&server.url, START_MS + DAY).await;
    laptop.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await);

    // The phone is away while the laptop logs in November.
    phone.cloud.pause().await;
    laptop.work_out(1).await;
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await);
    laptop.cloud.pause().await;
    let with_novembers = actions(&laptop.engine).await;
    assert!(with_novembers > actions(&phone.engine).await);

    // Meanwhile a newer version of the app changed October into something this one cannot read.
    server.stop().await;
    let documents = phone.engine.export_documents().await.unwrap();
    let october = documents.iter().filter(|d| matches!(d.kind, DocKind::Log(_))).min_by_key(|d| d.kind).unwrap();
    let mut newer = AutoCommit::load(&october.bytes).unwrap().with_actor(ActorId::random());
    let before = newer.get_heads();
    newer.put(ROOT, "kind", "log-v2").unwrap();
    newer.commit();
    let change = newer.save_after(&before);
    let stored = storage::open(&db.url).await.unwrap();
    let id = DocumentId::new(wire::document_id(october.id)).unwrap();
    stored.put_chunk(&id, ChunkKey::Incremental(ContentHash::of(&change)), &change).await.unwrap();
    stored.close().await;
    let server = TestServer::start_at(&db, JWT_SECRET, &address).await;

    // The phone comes back: October is set aside, and the laptop's November arrives all the same.
    phone.cloud.resume().await.unwrap();
    until_it_has(&phone, with_novembers).await;
    let status = phone.cloud.status().borrow().clone();
    assert_eq!(status.last_error.as_deref(), Some("corrupt_document"), "{status:?}");
    assert_ne!(status.phase, SyncPhase::UpToDate, "not everything is in sync: {status:?}");
    assert_eq!(phone.engine.routines().await.len(), laptop.engine.routines().await.len(), "still usable");

    // The phone's own new actions still reach the laptop.
    phone.work_out(2).await;
    let all = actions(&phone.engine).await;
    assert!(all > with_novembers);
    laptop.cloud.resume().await.unwrap();
    until_it_has(&laptop, all).await;
    assert_eq!(phone.visible().await, laptop.visible().await);
    phone.cloud.pause().await;
    laptop.cloud.pause().await;
    server.stop().await;
    db.drop_database().await;
}
