//! Conformance suite, images and idempotent writes: image records read back, counted per owner,
//! deleted, and purged with their files when no meetup shows them after a day; idempotency keys:
//! claimed by one request at a time (taken over only when stale), their first kept response
//! replayed, purged after a day. Each test runs against SQLite and against
//! MySQL/MariaDB (see `storage.rs`).

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use mingizuk_server::config::MediaConfig;
use mingizuk_server::media::{MediaError, MediaFolder};
use mingizuk_server::storage::idempotency::{KeptResponse, KeyClaim};
use mingizuk_server::storage::media::MediaRecord;
use mingizuk_server::storage::meetups::NewMeetup;
use mingizuk_server::storage::{NewUser, Storage, StorageError, UserId};
use uuid::Uuid;

conformance!(
    an_image_record_is_read_back_as_written,
    an_image_of_an_unknown_user_is_refused,
    uploads_are_counted_per_owner_since_a_time,
    deleting_an_image_record_says_whether_there_was_one,
    images_no_meetup_shows_are_purged_with_their_files_after_a_day,
    concurrent_uploads_never_exceed_the_daily_quota,
    finding_the_meetups_that_show_an_image_reads_an_index,
    a_claimed_key_runs_once_and_its_first_kept_response_is_replayed,
    of_concurrent_claims_of_one_key_exactly_one_holds_it,
    a_claim_whose_request_never_finished_is_taken_over_after_the_timeout,
    a_released_key_runs_again,
    a_key_of_an_unknown_user_is_refused,
    kept_responses_are_forgotten_after_the_cutoff,
);

async fn person(storage: &dyn Storage, name: &str) -> UserId {
    let new = NewUser {
        id: UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.into(),
        password_hash: None,
    };
    storage.create_user(&new).await.expect("create user").id
}

fn image(owner: UserId, created_at: chrono::DateTime<Utc>) -> MediaRecord {
    // Stored times have millisecond precision.
    let created_at = chrono::DateTime::from_timestamp_millis(created_at.timestamp_millis()).expect("time");
    MediaRecord { id: Uuid::new_v4(), owner, content_type: "image/png".into(), byte_size: 1234, created_at }
}

async fn an_image_record_is_read_back_as_written(db: TestDb) {
    let storage = db.storage();
    let owner = person(storage, "민지").await;
    let record = image(owner, Utc::now());
    storage.insert_media(&record).await.expect("insert");
    assert_eq!(storage.media(record.id).await.expect("read"), Some(record));
    assert_eq!(storage.media(Uuid::new_v4()).await.expect("read unknown"), None);
}

async fn an_image_of_an_unknown_user_is_refused(db: TestDb) {
    let refused = db.storage().insert_media(&image(UserId::random(), Utc::now())).await;
    assert!(matches!(refused, Err(StorageError::UnknownUser)), "{refused:?}");
}

async fn uploads_are_counted_per_owner_since_a_time(db: TestDb) {
    let storage = db.storage();
    let (minji, junho) = (person(storage, "민지").await, person(storage, "준호").await);
    let now = Utc::now();
    for at in [now - Duration::hours(30), now - Duration::hours(2), now] {
        storage.insert_media(&image(minji, at)).await.expect("insert");
    }
    storage.insert_media(&image(junho, now)).await.expect("insert");
    assert_eq!(storage.count_media_since(minji, now - Duration::days(1)).await.expect("count"), 2);
    assert_eq!(storage.count_media_since(junho, now - Duration::days(1)).await.expect("count"), 1);
}

async fn deleting_an_image_record_says_whether_there_was_one(db: TestDb) {
    let storage = db.storage();
    let record = image(person(storage, "민지").await, Utc::now());
    storage.insert_media(&record).await.expect("insert");
    assert!(storage.delete_media(record.id).await.expect("delete"));
    assert!(!storage.delete_media(record.id).await.expect("delete again"));
    assert_eq!(storage.media(record.id).await.expect("read"), None);
}

async fn images_no_meetup_shows_are_purged_with_their_files_after_a_day(db: TestDb) {
    let storage = db.storage();
    let dir = tempfile::tempdir().expect("media folder");
    let folder = MediaFolder::new(&MediaConfig { dir: dir.path().to_owned(), max_bytes: 1 << 20, uploads_per_day: 10 });
    let host = person(storage, "민지").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let shown = folder.upload(storage, host, png.clone()).await.expect("upload shown");
    let unused = folder.upload(storage, host, png.clone()).await.expect("upload unused");
    let now = Utc::now();
    let new = NewMeetup {
        host,
        title: "한강 러닝".into(),
        contents: "토요일 아침 5km".into(),
        starts_at: now + Duration::days(2),
        ends_at: now + Duration::days(2) + Duration::hours(1),
        member_limit: None,
        image_id: Some(shown.id),
        place_name: "여의나루역".into(),
        address: "서울특별시 영등포구 여의동로 343".into(),
        lat: 37.5271,
        lng: 126.9326,
        region: "서울특별시 영등포구".into(),
    };
    storage.create_meetup(&new).await.expect("create meetup");

    assert_eq!(folder.purge_unused(storage, now).await.expect("purge today"), 0, "a new upload waits a day");
    assert_eq!(folder.purge_unused(storage, now + Duration::days(2)).await.expect("purge later"), 1);
    assert_eq!(storage.media(unused.id).await.expect("read"), None);
    assert!(!dir.path().join(unused.id.to_string()).exists(), "its file went with it");
    assert!(storage.media(shown.id).await.expect("read").is_some(), "a meetup's picture stays");
    assert!(dir.path().join(shown.id.to_string()).is_file());
    assert!(!storage.delete_media_if_unused(shown.id).await.expect("delete if unused"));
}

async fn concurrent_uploads_never_exceed_the_daily_quota(db: TestDb) {
    let storage = db.shared();
    let dir = tempfile::tempdir().expect("media folder");
    let folder = MediaFolder::new(&MediaConfig { dir: dir.path().to_owned(), max_bytes: 1 << 20, uploads_per_day: 5 });
    let minji = person(&*storage, "민지").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let uploads: Vec<_> = (0..40)
        .map(|_| {
            let (storage, folder, png) = (std::sync::Arc::clone(&storage), folder.clone(), png.clone());
            tokio::spawn(async move { folder.upload(&*storage, minji, png).await })
        })
        .collect();
    let mut accepted = 0;
    for upload in uploads {
        match upload.await.expect("upload task") {
            Ok(_) => accepted += 1,
            Err(MediaError::QuotaExceeded) => {}
            Err(e) => panic!("an upload failed otherwise: {e}"),
        }
    }
    assert_eq!(accepted, 5, "exactly the quota is accepted");
    assert_eq!(storage.count_media_since(minji, Utc::now() - Duration::days(1)).await.expect("count"), 5);
    let files = std::fs::read_dir(dir.path()).expect("media folder").count();
    assert_eq!(files, 5, "refused uploads leave no file");
}

/// The purge of unused images and the deletion of an image ask which meetups show it; with many
/// meetups that must be an index lookup, not a scan of every meetup.
async fn finding_the_meetups_that_show_an_image_reads_an_index(db: TestDb) {
    use mysql_async::prelude::Queryable;
    macro_rules! lookup {
        () => {
            "SELECT 1 FROM meetups WHERE image_id = '7d1f6a2e-4b7c-4a55-9f0e-2b9d5c8e1a00'"
        };
    }
    // The index the lookup reads, by name: the same on both backends.
    let index = if db.url().starts_with("mysql://") {
        let pool = mysql_async::Pool::from_url(db.url()).expect("MySQL URL");
        let mut conn = pool.get_conn().await.expect("connect");
        let row: mysql_async::Row =
            conn.query_first(concat!("EXPLAIN ", lookup!())).await.expect("explain").expect("a plan");
        let key: Option<String> = row.get("key").expect("the plan's key column");
        drop(conn);
        pool.disconnect().await.expect("disconnect");
        key
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.expect("open SQLite");
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(concat!("EXPLAIN QUERY PLAN ", lookup!())).fetch_all(&pool).await.expect("explain");
        pool.close().await;
        // "SEARCH meetups USING [COVERING ]INDEX <name> (image_id=?)", or "SCAN meetups".
        let detail = rows.into_iter().map(|(_, _, _, detail)| detail).collect::<Vec<_>>().join("; ");
        detail.split_once("INDEX ").and_then(|(_, rest)| rest.split_whitespace().next()).map(str::to_owned)
    };
    assert_eq!(index.as_deref(), Some("meetups_image"));
}

const HASH: [u8; 32] = [7; 32];

fn kept(body: &str, status: u16) -> KeyClaim {
    KeyClaim::Kept(KeptResponse { request_hash: HASH, status, body: body.as_bytes().to_vec() })
}

/// Claims `user`'s `key` at `now` for a request with `hash`, with claims older than a minute stale.
async fn claim(storage: &dyn Storage, user: UserId, key: &str, hash: [u8; 32], now: DateTime<Utc>) -> KeyClaim {
    storage.claim_key(user, key, &hash, now, now - Duration::minutes(1)).await.expect("claim")
}

fn claimed(claim: KeyClaim) -> Uuid {
    match claim {
        KeyClaim::Claimed(claim) => claim,
        other => panic!("expected to hold the key, got {other:?}"),
    }
}

async fn a_claimed_key_runs_once_and_its_first_kept_response_is_replayed(db: TestDb) {
    let storage = db.storage();
    let (minji, junho) = (person(storage, "민지").await, person(storage, "준호").await);
    let now = Utc::now();
    let first = claimed(claim(storage, minji, "outbox-1", HASH, now).await);
    assert_eq!(claim(storage, minji, "outbox-1", HASH, now).await, KeyClaim::Running { request_hash: HASH });
    assert!(storage.keep_response(minji, "outbox-1", first, 201, b"{\"id\":1}", now).await.expect("keep"));
    assert_eq!(claim(storage, minji, "outbox-1", HASH, now).await, kept("{\"id\":1}", 201));
    assert!(!storage.keep_response(minji, "outbox-1", first, 201, b"{\"id\":2}", now).await.expect("keep again"));
    assert_eq!(claim(storage, minji, "outbox-1", [8; 32], now).await, kept("{\"id\":1}", 201), "the caller compares");

    let theirs = claimed(claim(storage, junho, "outbox-1", HASH, now).await);
    assert!(storage.keep_response(junho, "outbox-1", theirs, 204, b"", now).await.expect("another user's key"));
    assert_eq!(claim(storage, junho, "outbox-1", HASH, now).await, kept("", 204));
}

async fn of_concurrent_claims_of_one_key_exactly_one_holds_it(db: TestDb) {
    let storage = db.shared();
    let minji = person(&*storage, "민지").await;
    let now = Utc::now();
    let claims = (0..16).map(|_| {
        let storage = std::sync::Arc::clone(&storage);
        tokio::spawn(async move { claim(&*storage, minji, "outbox-1", HASH, now).await })
    });
    let mut held = 0;
    for claim in claims {
        match claim.await.expect("claim task") {
            KeyClaim::Claimed(_) => held += 1,
            other => assert_eq!(other, KeyClaim::Running { request_hash: HASH }),
        }
    }
    assert_eq!(held, 1);
}

async fn a_claim_whose_request_never_finished_is_taken_over_after_the_timeout(db: TestDb) {
    let storage = db.storage();
    let minji = person(storage, "민지").await;
    let start = Utc::now();
    let lost = claimed(claim(storage, minji, "outbox-1", HASH, start).await);
    let soon = start + Duration::seconds(59);
    assert_eq!(claim(storage, minji, "outbox-1", HASH, soon).await, KeyClaim::Running { request_hash: HASH });
    let later = start + Duration::minutes(2);
    assert_eq!(
        claim(storage, minji, "outbox-1", [8; 32], later).await,
        KeyClaim::Running { request_hash: HASH },
        "another request never takes the key over"
    );
    let retry = claimed(claim(storage, minji, "outbox-1", HASH, later).await);
    assert_ne!(retry, lost);
    assert_eq!(claim(storage, minji, "outbox-1", HASH, later).await, KeyClaim::Running { request_hash: HASH });
    assert!(!storage.keep_response(minji, "outbox-1", lost, 200, b"{}", later).await.expect("keep"), "taken over");
    assert!(storage.keep_response(minji, "outbox-1", retry, 201, b"{\"id\":1}", later).await.expect("keep"));
    assert_eq!(claim(storage, minji, "outbox-1", HASH, later).await, kept("{\"id\":1}", 201));
}

async fn a_released_key_runs_again(db: TestDb) {
    let storage = db.storage();
    let minji = person(storage, "민지").await;
    let now = Utc::now();
    let failed = claimed(claim(storage, minji, "outbox-1", HASH, now).await);
    storage.release_key(minji, "outbox-1", failed).await.expect("release");
    let again = claimed(claim(storage, minji, "outbox-1", HASH, now).await);
    storage.release_key(minji, "outbox-1", failed).await.expect("a stale release");
    assert_eq!(claim(storage, minji, "outbox-1", HASH, now).await, KeyClaim::Running { request_hash: HASH });
    assert!(storage.keep_response(minji, "outbox-1", again, 200, b"{}", now).await.expect("keep"));
}

async fn a_key_of_an_unknown_user_is_refused(db: TestDb) {
    let now = Utc::now();
    let refused = db.storage().claim_key(UserId::random(), "k", &HASH, now, now).await;
    assert!(matches!(refused, Err(StorageError::UnknownUser)), "{refused:?}");
}

async fn kept_responses_are_forgotten_after_the_cutoff(db: TestDb) {
    let storage = db.storage();
    let minji = person(storage, "민지").await;
    let now = Utc::now();
    let first = claimed(claim(storage, minji, "outbox-1", HASH, now).await);
    storage.keep_response(minji, "outbox-1", first, 200, b"{}", now).await.expect("keep");
    assert_eq!(storage.purge_kept_responses(now - Duration::days(1)).await.expect("purge"), 0);
    assert_eq!(storage.purge_kept_responses(now + Duration::seconds(1)).await.expect("purge"), 1);
    claimed(claim(storage, minji, "outbox-1", HASH, now).await);
}
