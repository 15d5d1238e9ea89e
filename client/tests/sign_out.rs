//! Removing this device's data when signing out or deleting the account never loses what was
//! logged offline unless the user says so (PRODUCT.md §1): while the server lacks changes made
//! here, sync gets a short while to finish, and then the removal is refused with
//! `unsynced_changes`; `LocalData::Discard` removes all the same.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::sync::{Session, TokenStore, UNSYNCED_PATIENCE, UserInfo};
use mingizuk_client::{Cloud, Engine, LocalData, ManualClock};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
/// Nothing listens on port 9 ("discard"): a device that never reaches its server.
const NO_SERVER: &str = "http://127.0.0.1:9";

/// A device signed in earlier, now offline, that logged an action since it last synced.
async fn signed_in_offline(dir: &Path) -> (Arc<Engine>, Cloud) {
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60));
    let engine = Arc::new(Engine::open(&dir.join("device.sqlite"), clock).await.unwrap());
    let session = Session {
        server: NO_SERVER.into(),
        user: UserInfo {
            id: "u1".into(), email: "mingi@example.com".into(), nickname: "밍기".into(), provider: None
        },
        account_root: uuid::Uuid::from_u128(7),
        access_token: "access".into(),
        refresh_token: "refresh".into(),
        access_expires_at_ms: i64::MAX,
    };
    TokenStore::in_dir(dir).save(&session).unwrap();
    let cloud = Cloud::new(engine.clone(), NO_SERVER, dir).unwrap();
    cloud.resume().await.unwrap();
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let first = engine.routine(basic).await.unwrap().entries[0].id;
    engine.complete_action(basic, first).await.unwrap();
    (engine, cloud)
}

#[tokio::test]
async fn signing_out_offline_keeps_unsynced_history_unless_the_user_agrees_to_lose_it() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, cloud) = signed_in_offline(dir.path()).await;

    let started = Instant::now();
    let refused = cloud.sign_out(LocalData::Remove).await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_changes");
    assert!(started.elapsed() >= UNSYNCED_PATIENCE, "sync was given its chance to finish first");
    assert!(cloud.user().await.is_some(), "still signed in");
    assert_eq!(engine.personal().await.actions.len(), 1, "the offline action is still on the device");

    cloud.sign_out(LocalData::Discard).await.unwrap();
    assert!(cloud.user().await.is_none());
    assert!(engine.personal().await.actions.is_empty(), "the user chose to lose it: removed");
    assert_eq!(engine.derived().await.total_exp, 0);
}

#[tokio::test]
async fn deleting_the_account_offline_with_remove_refuses_before_deleting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, cloud) = signed_in_offline(dir.path()).await;

    let refused = cloud.delete_account(LocalData::Remove).await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_changes", "refused before asking the server: {refused}");
    assert!(cloud.user().await.is_some());
    assert_eq!(engine.personal().await.actions.len(), 1);
    // Keeping the data needs no wait: the server is asked (and here cannot be reached).
    assert_eq!(cloud.delete_account(LocalData::Keep).await.unwrap_err().code(), "network_failed");
    cloud.pause().await;
}
