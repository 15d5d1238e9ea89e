//! The OS keychain, where the session's tokens go when the system has one: the Secret Service
//! on Linux (GNOME Keyring, KWallet), the Keychain on macOS and iOS, the Credential Manager on
//! Windows, through the `keyring` crate. [`TokenStore`](super::TokenStore) falls back to a file
//! readable by the user only when the keychain is missing, locked or slow.
//!
//! A keychain call may wait for the person (a locked Secret Service collection shows an unlock
//! prompt): every call runs on a thread of its own and is given up after
//! [`KEYCHAIN_PATIENCE`], so signing in never hangs on it.

use std::sync::mpsc;
use std::time::Duration;

/// How long a keychain call may take before the store falls back to the file.
pub const KEYCHAIN_PATIENCE: Duration = Duration::from_secs(3);

/// A place for one secret string. `Err` carries why the keychain could not be used.
pub trait SecretStore: Send + Sync {
    /// The secret, or `None` when none is kept.
    fn get(&self) -> Result<Option<String>, String>;
    fn set(&self, secret: &str) -> Result<(), String>;
    /// Forgets the secret (none kept is not an error).
    fn delete(&self) -> Result<(), String>;
}

/// One entry of the OS keychain, named by the app (`service`) and the data folder (`account`),
/// so that two data folders of one person (a test, a second profile) keep two sessions.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
    account: String,
}

impl OsKeychain {
    pub fn new(service: &str, account: &str) -> Self {
        Self { service: service.to_owned(), account: account.to_owned() }
    }

    /// Runs `op` on the entry in a thread of its own, giving up after [`KEYCHAIN_PATIENCE`].
    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let (service, account) = (self.service.clone(), self.account.clone());
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("keychain".into()).spawn(move || {
            let outcome = keyring::Entry::new(&service, &account).and_then(|entry| op(&entry));
            let _ = tx.send(outcome);
        });
        if let Err(e) = spawned {
            return Err(format!("cannot start the keychain call: {e}"));
        }
        match rx.recv_timeout(KEYCHAIN_PATIENCE) {
            Ok(outcome) => outcome.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the keychain did not answer within {KEYCHAIN_PATIENCE:?}")),
        }
    }
}

impl SecretStore for OsKeychain {
    fn get(&self) -> Result<Option<String>, String> {
        self.call(|entry| match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn set(&self, secret: &str) -> Result<(), String> {
        let secret = secret.to_owned();
        self.call(move |entry| entry.set_password(&secret))
    }

    fn delete(&self) -> Result<(), String> {
        self.call(|entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
    }
}
