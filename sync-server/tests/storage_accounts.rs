//! The storage conformance suite for accounts and refresh tokens: every test runs on SQLite and on
//! MySQL/MariaDB (see `tests/storage.rs` for the harness). Rotation must be atomic, reuse must be
//! visible, family revocation must reach every token of a login, and deleting an account revokes
//! its tokens in the same step.

#[macro_use]
mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::TestDb;
use mingizuk_server::storage::{
    NewRefreshToken, NewUser, Rotation, Storage, StorageError, TokenFamily, TokenHash, UserId,
};
use rand::RngCore;

conformance!(
    a_refresh_token_rotates_once_and_its_successor_joins_the_family,
    concurrent_refreshes_with_one_token_let_exactly_one_through,
    revoking_a_family_stops_every_token_of_that_login_only,
    an_expired_or_unknown_refresh_token_does_not_rotate,
    deleting_an_account_revokes_its_tokens_and_restoring_brings_it_back,
    nickname_and_password_changes_are_kept_and_a_taken_nickname_is_refused,
);

async fn user(storage: &dyn Storage, name: &str) -> UserId {
    let new = NewUser {
        id: UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.to_owned(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
    };
    storage.create_user(&new).await.expect("create user").id
}

fn token_hash() -> TokenHash {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    TokenHash::of(&bytes)
}

/// Stores the first token of a new login and returns its hash and family.
async fn log_in(storage: &dyn Storage, user_id: UserId) -> (TokenHash, TokenFamily) {
    let token = NewRefreshToken {
        hash: token_hash(),
        user_id,
        family: TokenFamily::random(),
        expires_at: Utc::now() + Duration::days(14),
    };
    storage.insert_refresh_token(&token).await.expect("insert refresh token");
    (token.hash, token.family)
}

fn in_14_days() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::days(14)
}

async fn a_refresh_token_rotates_once_and_its_successor_joins_the_family(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let (first, family) = log_in(storage, ana).await;
    let second = token_hash();
    let rotation = storage.rotate_refresh_token(first, second, in_14_days()).await.expect("rotate");
    assert_eq!(rotation, Rotation::Rotated { user_id: ana, family });
    assert_eq!(storage.token_family(second).await.expect("family"), Some(family));

    let reused = storage.rotate_refresh_token(first, token_hash(), in_14_days()).await.expect("rotate again");
    assert_eq!(reused, Rotation::Reused { user_id: ana, family });
    let third = token_hash();
    let rotation = storage.rotate_refresh_token(second, third, in_14_days()).await.expect("rotate the successor");
    assert_eq!(rotation, Rotation::Rotated { user_id: ana, family }, "storage reports reuse; the caller revokes");
}

async fn concurrent_refreshes_with_one_token_let_exactly_one_through(db: TestDb) {
    let storage = db.shared();
    let ana = user(&*storage, "ana").await;
    for round in 0..5 {
        let (token, family) = log_in(&*storage, ana).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let storage = Arc::clone(&storage);
                tokio::spawn(async move {
                    let next = token_hash();
                    (next, storage.rotate_refresh_token(token, next, in_14_days()).await.expect("rotate"))
                })
            })
            .collect();
        let mut rotated = Vec::new();
        for task in tasks {
            let (next, rotation) = task.await.expect("task");
            match rotation {
                Rotation::Rotated { .. } => rotated.push(next),
                Rotation::Reused { user_id, family: f } => assert_eq!((user_id, f), (ana, family)),
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(rotated.len(), 1, "round {round}: exactly one refresh wins");
        assert_eq!(storage.token_family(rotated[0]).await.expect("family"), Some(family));
    }
}

async fn revoking_a_family_stops_every_token_of_that_login_only(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let (laptop, laptop_family) = log_in(storage, ana).await;
    let (phone, _) = log_in(storage, ana).await;
    let laptop_next = token_hash();
    storage.rotate_refresh_token(laptop, laptop_next, in_14_days()).await.expect("rotate");

    assert_eq!(storage.revoke_token_family(laptop_family).await.expect("revoke"), 2);
    assert_eq!(storage.revoke_token_family(laptop_family).await.expect("revoke again"), 0);
    let result = storage.rotate_refresh_token(laptop_next, token_hash(), in_14_days()).await.expect("rotate");
    assert_eq!(result, Rotation::Revoked);
    let result = storage.rotate_refresh_token(laptop, token_hash(), in_14_days()).await.expect("rotate");
    assert_eq!(result, Rotation::Revoked, "a spent token of a revoked family is just revoked");
    let result = storage.rotate_refresh_token(phone, token_hash(), in_14_days()).await.expect("rotate");
    assert!(matches!(result, Rotation::Rotated { .. }), "the other login is untouched: {result:?}");
}

async fn an_expired_or_unknown_refresh_token_does_not_rotate(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let expired = NewRefreshToken {
        hash: token_hash(),
        user_id: ana,
        family: TokenFamily::random(),
        expires_at: Utc::now() - Duration::seconds(1),
    };
    storage.insert_refresh_token(&expired).await.expect("insert");
    let next = token_hash();
    assert_eq!(
        storage.rotate_refresh_token(expired.hash, next, in_14_days()).await.expect("rotate"),
        Rotation::Expired
    );
    assert_eq!(storage.token_family(next).await.expect("family"), None, "no successor stored");
    let unknown = storage.rotate_refresh_token(token_hash(), token_hash(), in_14_days()).await.expect("rotate");
    assert_eq!(unknown, Rotation::Unknown);
    let orphan = NewRefreshToken { user_id: UserId::random(), hash: token_hash(), ..expired };
    let result = storage.insert_refresh_token(&orphan).await;
    assert!(matches!(result, Err(StorageError::UnknownUser)), "{result:?}");
}

async fn deleting_an_account_revokes_its_tokens_and_restoring_brings_it_back(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let bo = user(storage, "bo").await;
    let (ana_token, _) = log_in(storage, ana).await;
    let (bo_token, _) = log_in(storage, bo).await;

    storage.soft_delete_user(ana).await.expect("delete");
    let deleted = storage.user_by_id(ana).await.expect("user").expect("kept during the grace period");
    let deleted_at = deleted.deleted_at.expect("marked deleted");
    assert!(Utc::now() - deleted_at < Duration::minutes(1));
    let result = storage.rotate_refresh_token(ana_token, token_hash(), in_14_days()).await.expect("rotate");
    assert_eq!(result, Rotation::Revoked);
    storage.soft_delete_user(ana).await.expect("deleting twice is harmless");
    let again = storage.user_by_id(ana).await.expect("user").expect("kept");
    assert_eq!(again.deleted_at, Some(deleted_at), "the first deletion time is kept");
    let result = storage.rotate_refresh_token(bo_token, token_hash(), in_14_days()).await.expect("rotate");
    assert!(matches!(result, Rotation::Rotated { .. }), "another account is untouched: {result:?}");

    storage.restore_user(ana).await.expect("restore");
    assert_eq!(storage.user_by_email("ana@example.com").await.expect("user").expect("found").deleted_at, None);
    assert!(matches!(storage.soft_delete_user(UserId::random()).await, Err(StorageError::UnknownUser)));
    assert!(matches!(storage.restore_user(UserId::random()).await, Err(StorageError::UnknownUser)));
}

async fn nickname_and_password_changes_are_kept_and_a_taken_nickname_is_refused(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    user(storage, "bo").await;
    storage.set_nickname(ana, "밍기적").await.expect("rename");
    storage.set_nickname(ana, "밍기적").await.expect("the same nickname again");
    let result = storage.set_nickname(ana, "bo").await;
    assert!(matches!(result, Err(StorageError::NicknameTaken)), "{result:?}");
    storage.set_password_hash(ana, "$argon2id$new").await.expect("new hash");
    let stored = storage.user_by_id(ana).await.expect("user").expect("found");
    assert_eq!((stored.nickname.as_str(), stored.password_hash.as_deref()), ("밍기적", Some("$argon2id$new")));
    assert!(matches!(storage.set_nickname(UserId::random(), "x").await, Err(StorageError::UnknownUser)));
    assert!(matches!(storage.set_password_hash(UserId::random(), "x").await, Err(StorageError::UnknownUser)));
}
