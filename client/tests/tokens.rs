//! Where the session's tokens are kept: in the OS keychain when there is one, the file keeping
//! only who is signed in; in a file readable by the user only when the keychain cannot be used.
//!
//! The keychain here is a stand-in that can be told to fail; `the_real_keychain_keeps_the_tokens`
//! runs against the system's Secret Service (`scripts/test.sh` starts GNOME Keyring on a private
//! D-Bus for it).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use mingizuk_client::sync::{OsKeychain, SecretStore, Session, TokenStore, UserInfo};

/// A keychain in memory; `down` makes every call fail as an unreachable one does.
#[derive(Default)]
struct FakeKeychain {
    secret: Mutex<Option<String>>,
    down: Mutex<bool>,
}

impl FakeKeychain {
    fn fail(&self) -> Result<(), String> {
        if *self.down.lock().unwrap() { Err("org.freedesktop.secrets was not provided".into()) } else { Ok(()) }
    }
}

impl SecretStore for FakeKeychain {
    fn get(&self) -> Result<Option<String>, String> {
        self.fail()?;
        Ok(self.secret.lock().unwrap().clone())
    }
    fn set(&self, secret: &str) -> Result<(), String> {
        self.fail()?;
        *self.secret.lock().unwrap() = Some(secret.to_owned());
        Ok(())
    }
    fn delete(&self) -> Result<(), String> {
        self.fail()?;
        *self.secret.lock().unwrap() = None;
        Ok(())
    }
}

fn session(access: &str) -> Session {
    Session {
        server: "http://127.0.0.1:8787".into(),
        user: UserInfo {
            id: "u1".into(), email: "mingi@example.com".into(), nickname: "밍기".into(), provider: None
        },
        account_root: uuid::Uuid::from_u128(7),
        access_token: access.into(),
        refresh_token: format!("refresh-of-{access}"),
        access_expires_at_ms: 1_793_577_600_000,
    }
}

fn same(a: &Session, b: &Session) -> bool {
    (&a.server, &a.user, a.account_root, &a.access_token, &a.refresh_token, a.access_expires_at_ms)
        == (&b.server, &b.user, b.account_root, &b.access_token, &b.refresh_token, b.access_expires_at_ms)
}

#[test]
fn with_a_keychain_the_tokens_never_touch_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(FakeKeychain::default());
    let store = TokenStore::with_keychain(dir.path(), keychain.clone());
    store.save(&session("access-1")).unwrap();

    let file = std::fs::read_to_string(store.path()).unwrap();
    assert!(!file.contains("access-1") && !file.contains("refresh-of"), "{file}");
    assert!(file.contains("mingi@example.com"), "the file still says who is signed in");
    assert!(keychain.secret.lock().unwrap().as_deref().unwrap().contains("refresh-of-access-1"));
    assert!(same(&store.load().unwrap().unwrap(), &session("access-1")));

    // Signing out forgets both.
    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    assert!(keychain.secret.lock().unwrap().is_none());
}

#[test]
fn without_a_working_keychain_the_tokens_stay_in_a_file_only_the_user_reads() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(FakeKeychain::default());
    *keychain.down.lock().unwrap() = true;
    let store = TokenStore::with_keychain(dir.path(), keychain.clone());
    store.save(&session("access-2")).unwrap();
    let file = std::fs::read_to_string(store.path()).unwrap();
    assert!(file.contains("access-2"), "{file}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(same(&store.load().unwrap().unwrap(), &session("access-2")), "read back while the keychain is down");

    // The keychain comes back: the next save (a token refresh) moves the tokens into it.
    *keychain.down.lock().unwrap() = false;
    store.save(&session("access-3")).unwrap();
    assert!(!std::fs::read_to_string(store.path()).unwrap().contains("access-3"));
    assert!(same(&store.load().unwrap().unwrap(), &session("access-3")));
}

#[test]
fn tokens_missing_from_the_keychain_leave_the_device_signed_out_not_half_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(FakeKeychain::default());
    let store = TokenStore::with_keychain(dir.path(), keychain.clone());
    store.save(&session("access-4")).unwrap();
    *keychain.secret.lock().unwrap() = None;
    assert!(store.load().unwrap().is_none());

    // Locked or gone at start: signed out for now, the file kept for a later launch.
    store.save(&session("access-5")).unwrap();
    *keychain.down.lock().unwrap() = true;
    assert!(store.load().unwrap().is_none());
    assert!(store.path().exists());
    *keychain.down.lock().unwrap() = false;
    assert!(same(&store.load().unwrap().unwrap(), &session("access-5")));

    // A file written without a keychain is read by a store that has one.
    let plain = TokenStore::in_dir(dir.path());
    plain.save(&session("access-6")).unwrap();
    assert!(same(&store.load().unwrap().unwrap(), &session("access-6")));
}

/// Against the system's Secret Service. `scripts/test.sh` runs it under `dbus-run-session` with
/// an unlocked GNOME Keyring; elsewhere run it with `-- --ignored` where a keyring is unlocked.
#[test]
#[ignore = "needs a Secret Service (scripts/test.sh provides one)"]
fn the_real_keychain_keeps_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().display().to_string();
    let keychain = Arc::new(OsKeychain::new("app.mingizuk.test", &account));
    let store = TokenStore::with_keychain(dir.path(), keychain.clone());
    store.save(&session("access-real")).unwrap();
    assert!(!std::fs::read_to_string(store.path()).unwrap().contains("access-real"), "the keychain took the tokens");
    assert!(keychain.get().unwrap().unwrap().contains("refresh-of-access-real"));
    // Another store (the next launch) reads them back.
    let next = TokenStore::with_keychain(dir.path(), Arc::new(OsKeychain::new("app.mingizuk.test", &account)));
    assert!(same(&next.load().unwrap().unwrap(), &session("access-real")));
    next.clear().unwrap();
    assert_eq!(keychain.get().unwrap(), None);
}
