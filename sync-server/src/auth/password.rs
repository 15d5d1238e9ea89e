//! Password hashing with argon2id at the parameters PRODUCT.md §2 sets (m = 19 MiB, t = 2, p = 1).
//! Hashing takes tens of milliseconds of CPU, so it always runs on the blocking pool, never on the
//! async workers. Nothing here decides who may sign in; it only hashes and compares.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use super::AuthError;

/// Memory cost in KiB: 19 MiB.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Lanes.
pub const ARGON2_PARALLELISM: u32 = 1;

fn hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM, None)
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let hash = hasher()?.hash_password(password.as_bytes()).map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))?
}

/// Whether `password` matches `stored`. With no stored hash (an unknown email, a social-only
/// account) a throwaway hash is checked instead, so the answer takes as long either way and does
/// not tell which emails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
        let argon2 = hasher()?;
        match stored {
            Some(stored) => Ok(argon2.verify_password(password.as_bytes(), stored.as_str()).is_ok()),
            None => {
                let decoy = decoy_hash()?;
                let _ = argon2.verify_password(password.as_bytes(), decoy);
                Ok(false)
            }
        }
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))?
}

/// A hash of a random password, made once, at production cost.
fn decoy_hash() -> Result<&'static str, AuthError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(decoy) = DECOY.get() {
        return Ok(decoy);
    }
    let secret: [u8; 16] = rand::random();
    let hash = hasher()?.hash_password(&secret).map_err(|e| AuthError::Hashing(e.to_string()))?.to_string();
    Ok(DECOY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_hash_is_argon2id_at_the_product_cost_and_verifies() {
        let stored = hash("밍기적 매일 조금씩".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("밍기적 매일 조금씩".into(), Some(stored.clone())).await.expect("verify"));
        assert!(!verify("밍기적 매일 조금".into(), Some(stored)).await.expect("verify"));
        assert!(!verify("anything at all".into(), None).await.expect("decoy"));
    }
}
