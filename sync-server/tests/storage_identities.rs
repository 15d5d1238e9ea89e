//! The storage conformance suite for social sign-in and the purge, on SQLite and MySQL/MariaDB:
//! an identity leads to one account, a started sign-in and a one-time code are each taken exactly
//! once even by concurrent callers, and the purge removes accounts deleted over 30 days ago with
//! everything they own while sparing the rest.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use mingizuk_server::auth::{Purged, purge_deleted_accounts};
use mingizuk_server::storage::{
    AuthCode, ChunkKey, Claim, CodeChallenge, ContentHash, DocumentId, NewRefreshToken, NewUser, OAuthState, Storage,
    StorageError, TokenFamily, TokenHash, User, UserId,
};
use rand::RngCore;

conformance!(
    an_identity_leads_to_its_account_and_cannot_be_linked_twice,
    a_started_sign_in_is_taken_once_even_by_concurrent_callbacks,
    a_one_time_code_is_taken_once_even_by_concurrent_exchanges,
    the_purge_removes_accounts_deleted_over_30_days_ago_with_all_they_own,
);

fn random_hash() -> TokenHash {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    TokenHash::of(&bytes)
}

fn challenge() -> CodeChallenge {
    CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t1URWbvEfKzdS-Nc").expect("challenge")
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.to_owned(),
        password_hash: None,
    }
}

fn at(millis_from_now: i64) -> DateTime<Utc> {
    // Storage keeps milliseconds; compare like with like.
    let now = Utc::now().timestamp_millis() + millis_from_now;
    DateTime::from_timestamp_millis(now).expect("time")
}

async fn an_identity_leads_to_its_account_and_cannot_be_linked_twice(db: TestDb) {
    let storage = db.storage();
    assert_eq!(storage.user_by_identity("google", "g-1").await.expect("lookup"), None);
    let ana = storage.create_user_with_identity(&new_user("ana"), "google", "g-1").await.expect("create");
    assert_eq!(ana.password_hash, None);
    let found = storage.user_by_identity("google", "g-1").await.expect("lookup").expect("found");
    assert_eq!(found.id, ana.id);
    assert_eq!(storage.user_by_identity("kakao", "g-1").await.expect("lookup"), None, "keyed by provider too");

    let again = storage.create_user_with_identity(&new_user("bo"), "google", "g-1").await;
    assert!(matches!(again, Err(StorageError::IdentityTaken)), "{again:?}");
    assert_eq!(storage.user_by_email("bo@example.com").await.expect("lookup"), None, "nothing half-created");
    let taken = storage.create_user_with_identity(&new_user("ana"), "naver", "n-1").await;
    assert!(matches!(taken, Err(StorageError::EmailTaken) | Err(StorageError::NicknameTaken)), "{taken:?}");
    assert_eq!(storage.user_by_identity("naver", "n-1").await.expect("lookup"), None, "nothing half-linked");
}

fn started(provider: &str, expires_at: DateTime<Utc>) -> OAuthState {
    OAuthState {
        hash: random_hash(),
        provider: provider.to_owned(),
        pkce_verifier: "server-verifier-0123456789-0123456789-0123456789".to_owned(),
        nonce: "nonce-0123456789".to_owned(),
        app_redirect_uri: "http://127.0.0.1:53682/done".to_owned(),
        app_code_challenge: challenge(),
        expires_at,
    }
}

async fn a_started_sign_in_is_taken_once_even_by_concurrent_callbacks(db: TestDb) {
    let storage = db.shared();
    let state = started("kakao", at(600_000));
    storage.insert_oauth_state(&state).await.expect("insert");
    assert_eq!(storage.take_oauth_state(state.hash).await.expect("take"), Some(state.clone()));
    assert_eq!(storage.take_oauth_state(state.hash).await.expect("take again"), None);
    assert_eq!(storage.take_oauth_state(random_hash()).await.expect("unknown"), None);

    for _ in 0..5 {
        let state = started("naver", at(600_000));
        storage.insert_oauth_state(&state).await.expect("insert");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let storage = storage.clone();
                tokio::spawn(async move { storage.take_oauth_state(state.hash).await.expect("take") })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task").is_some());
        }
        assert_eq!(winners, 1, "exactly one callback gets the state");
    }

    let expired = started("google", at(-1_000));
    storage.insert_oauth_state(&expired).await.expect("insert expired");
    let live = started("google", at(600_000));
    storage.insert_oauth_state(&live).await.expect("insert live");
    assert_eq!(storage.purge_expired_logins(Utc::now()).await.expect("sweep"), 1);
    assert_eq!(storage.take_oauth_state(expired.hash).await.expect("take"), None);
    assert!(storage.take_oauth_state(live.hash).await.expect("take").is_some());
}

async fn a_one_time_code_is_taken_once_even_by_concurrent_exchanges(db: TestDb) {
    let storage = db.shared();
    let ana = storage.create_user(&new_user("ana")).await.expect("user");
    let code = AuthCode { hash: random_hash(), user_id: ana.id, code_challenge: challenge(), expires_at: at(60_000) };
    storage.insert_auth_code(&code).await.expect("insert");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let storage = storage.clone();
            tokio::spawn(async move { storage.take_auth_code(code.hash).await.expect("take") })
        })
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.extend(task.await.expect("task"));
    }
    assert_eq!(taken, vec![code], "exactly one exchange gets the code, intact");
    let orphan = AuthCode { user_id: UserId::random(), hash: random_hash(), ..code };
    assert!(matches!(storage.insert_auth_code(&orphan).await, Err(StorageError::UnknownUser)));
}

/// An account with a document of two chunks, a login, an identity and a pending one-time code.
async fn account_with_everything(storage: &dyn Storage, name: &str) -> (User, DocumentId, TokenHash, TokenHash) {
    let user = storage.create_user_with_identity(&new_user(name), "kakao", name).await.expect("user");
    let doc = DocumentId::new(format!("doc-of-{name}")).expect("doc id");
    assert_eq!(storage.claim_document(&doc, user.id).await.expect("claim"), Claim::Owned);
    for bytes in [b"first".as_slice(), b"second".as_slice()] {
        storage.put_chunk(&doc, ChunkKey::Incremental(ContentHash::of(bytes)), bytes).await.expect("chunk");
    }
    let token = NewRefreshToken {
        hash: random_hash(),
        user_id: user.id,
        family: TokenFamily::random(),
        expires_at: Utc::now() + Duration::days(14),
    };
    storage.insert_refresh_token(&token).await.expect("token");
    // Far from expiry, so only the account's removal can take it.
    let expires_at = Utc::now() + Duration::days(60);
    let code = AuthCode { hash: random_hash(), user_id: user.id, code_challenge: challenge(), expires_at };
    storage.insert_auth_code(&code).await.expect("code");
    (user, doc, token.hash, code.hash)
}

async fn the_purge_removes_accounts_deleted_over_30_days_ago_with_all_they_own(db: TestDb) {
    let storage = db.storage();
    let (gone, gone_doc, gone_token, gone_code) = account_with_everything(storage, "gone").await;
    let (kept, kept_doc, kept_token, kept_code) = account_with_everything(storage, "kept").await;
    let liked = common::meetup(storage, kept.id, None, Duration::days(40)).await;
    for who in [gone.id, kept.id] {
        storage.set_like(liked, who, true).await.expect("like");
    }
    storage.soft_delete_user(gone.id).await.expect("delete");
    let likes = || async { storage.meetup(liked, kept.id).await.expect("read").expect("meetup").meetup.like_count };

    let day_29 = Utc::now() + Duration::days(29);
    let purged = purge_deleted_accounts(storage, day_29).await.expect("purge at day 29");
    assert_eq!(purged, Purged::default(), "still restorable on day 29");
    assert!(storage.user_by_id(gone.id).await.expect("lookup").is_some());
    assert_eq!(likes().await, 1, "an account in its grace is hidden, its like too");

    let day_31 = Utc::now() + Duration::days(31);
    let purged = purge_deleted_accounts(storage, day_31).await.expect("purge at day 31");
    assert_eq!(purged, Purged { accounts: 1, expired_logins: 0 });
    assert_eq!(storage.user_by_id(gone.id).await.expect("lookup"), None);
    assert_eq!(storage.document_owner(&gone_doc).await.expect("owner"), None);
    assert!(storage.load_chunks(&gone_doc).await.expect("chunks").is_empty());
    assert_eq!(storage.token_family(gone_token).await.expect("family"), None);
    assert_eq!(storage.user_by_identity("kakao", "gone").await.expect("identity"), None);
    assert_eq!(storage.take_auth_code(gone_code).await.expect("code"), None);
    assert_eq!(likes().await, 1, "the purged account's like left the count with the deletion, not again");

    assert!(storage.user_by_id(kept.id).await.expect("lookup").is_some());
    assert_eq!(storage.document_owner(&kept_doc).await.expect("owner"), Some(kept.id));
    assert_eq!(storage.load_chunks(&kept_doc).await.expect("chunks").len(), 2);
    assert!(storage.token_family(kept_token).await.expect("family").is_some());
    assert!(storage.user_by_identity("kakao", "kept").await.expect("identity").is_some());
    assert!(storage.take_auth_code(kept_code).await.expect("code").is_some());
    assert_eq!(purge_deleted_accounts(storage, day_31).await.expect("again"), Purged::default());
}
