//! Opening the app over documents it cannot name (a newer app's kind, or a month an older build
//! wrote) on real SQLite files: the app opens, and what it cannot read stays stored untouched.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::automerge::ActorId;
use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::model::{ActionCompletion, CompletionKey, Cycle, Moment};
use mingizuk_client::core::rules::Change;
use mingizuk_client::core::schema::{self, DocKind, Month};
use mingizuk_client::{Engine, ManualClock};
use sqlx::{Connection, Row, SqliteConnection};
use uuid::Uuid;

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;

async fn open(path: &Path, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(path, clock.clone()).await.unwrap()
}

/// A phone that drew a character and played the basic preset's first action.
async fn phone(path: &Path, clock: &Arc<ManualClock>) -> Engine {
    let phone = open(path, clock).await;
    phone.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let entry = phone.routine(basic).await.unwrap().entries[0].id;
    phone.complete_action(basic, entry).await.unwrap();
    phone
}

async fn connect(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap()
}

/// Stores a document with its chunk and its log entries as another build would have.
async fn store_document(db: &mut SqliteConnection, id: Uuid, kind: &str, bytes: Vec<u8>, entries: &[ActionCompletion]) {
    sqlx::query("INSERT INTO documents (doc_id, kind) VALUES (?, ?)")
        .bind(id.to_string())
        .bind(kind)
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO chunks (doc_id, hash, snapshot, bytes) VALUES (?, 'their-chunk', 0, ?)")
        .bind(id.to_string())
        .bind(bytes)
        .execute(&mut *db)
        .await
        .unwrap();
    for c in entries {
        sqlx::query("INSERT INTO log_entries (doc_id, key, at_ms, kind, body) VALUES (?, ?, ?, 'action', ?)")
            .bind(id.to_string())
            .bind(c.key.encode())
            .bind(c.moment.at_ms)
            .bind(serde_json::to_string(c).unwrap())
            .execute(&mut *db)
            .await
            .unwrap();
    }
}

async fn rows_of(db: &mut SqliteConnection, id: Uuid) -> (i64, i64, i64) {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM documents WHERE doc_id = ?1), (SELECT COUNT(*) FROM chunks WHERE doc_id = ?1), \
         (SELECT COUNT(*) FROM log_entries WHERE doc_id = ?1)",
    )
    .bind(id.to_string())
    .fetch_one(&mut *db)
    .await
    .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn a_stored_document_of_a_kind_this_app_does_not_know_is_kept_and_the_app_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = phone(&path, &clock).await;
    let derived = phone.derived().await;
    let theirs = phone.personal().await.actions.values().next().cloned().unwrap();
    phone.close().await.unwrap();

    // A newer app stored a document of a kind this one has never heard of, with log entries.
    let unknown = Uuid::from_u128(42);
    let mut db = connect(&path).await;
    let mut journal = theirs.clone();
    journal.key.cycle = Cycle::Number(7);
    store_document(&mut db, unknown, "journal/2031", vec![1, 2, 3], &[journal]).await;

    let phone = open(&path, &clock).await;
    assert_eq!(phone.derived().await, derived, "what this app can read is all there, and only that");
    // Writing, compacting and closing leave the unknown document as it was.
    let basic = PRESETS[0].id;
    let entry = phone.routine(basic).await.unwrap().entries[1].id;
    phone.complete_action(basic, entry).await.unwrap();
    phone.maintain().await.unwrap();
    phone.close().await.unwrap();
    assert_eq!(rows_of(&mut db, unknown).await, (1, 1, 1), "the document, its chunk and its entry stay stored");
    open(&path, &clock).await.close().await.unwrap();
    assert_eq!(rows_of(&mut db, unknown).await, (1, 1, 1));
}

#[tokio::test]
async fn a_log_of_year_minus_one_written_by_an_older_build_opens_with_its_completion() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = phone(&path, &clock).await;
    let root = phone.root_id().await;
    phone.close().await.unwrap();

    // What an older build's import of a completion dated year -1 left behind.
    let month = Month { year: -1, month: 1 };
    let at_ms = chrono::NaiveDate::from_ymd_opt(-1, 1, 15).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let (entry, action, count) = PRESETS[1].entries[0];
    let old = ActionCompletion {
        key: CompletionKey { routine: PRESETS[1].id, cycle: Cycle::FIRST, entry },
        action: action.into(),
        count,
        moment: Moment::new(at_ms.timestamp_millis(), KST).unwrap(),
    };
    let mut doc = schema::genesis(DocKind::Log(month), &ActorId::from(&[9_u8; 16][..]));
    schema::write(&mut doc, &Change::CompleteAction(old.clone())).unwrap();
    doc.commit();
    let id = DocKind::Log(month).id_in(root);
    assert_eq!(DocKind::Log(month).label(), "log/-001-01");
    store_document(&mut connect(&path).await, id, "log/-001-01", doc.save(), std::slice::from_ref(&old)).await;

    let phone = open(&path, &clock).await;
    assert_eq!(phone.personal().await.actions.get(&old.key), Some(&old));
    assert!(phone.export_documents().await.unwrap().iter().any(|d| d.id == id), "the log is read whole");
}
