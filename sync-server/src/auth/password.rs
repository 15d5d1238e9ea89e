//! Password hashing with argon2id at the parameters PRODUCT.md §2 sets (m = 19 MiB, t = 2, p = 1).
//! Hashing takes tens of milliseconds of CPU, so it never runs on the async workers. It runs on
//! one dedicated thread: on the blocking pool every thread that ever hashed kept a 19 MiB block in
//! its own malloc arena, and an idle server sat at ~210 MB (measured by the sync benchmark); with
//! one thread it keeps one. Logins queue behind each other (~30 hashes/s on this machine), which
//! the login throttle keeps far from mattering. The queue is bounded ([`MAX_QUEUED`]): past it a
//! request is refused at once (503 `unavailable`) rather than waiting behind a flood of sign-ups
//! or logins for minutes. Nothing here decides who may sign in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

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

type Job = Box<dyn FnOnce() + Send>;

/// Hashes waiting or running at most: about two seconds of work at production cost.
pub const MAX_QUEUED: usize = 64;

/// Counts the hashes waiting or running, up to a bound.
struct Gate {
    queued: AtomicUsize,
    max: usize,
}

/// One place in the queue, given back when dropped (the job ran, or never will).
struct Ticket<'a>(&'a Gate);

impl Gate {
    const fn new(max: usize) -> Self {
        Self { queued: AtomicUsize::new(0), max }
    }

    fn enter(&self) -> Option<Ticket<'_>> {
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket(self);
        (before < self.max).then_some(ticket)
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

static QUEUE_GATE: Gate = Gate::new(MAX_QUEUED);

/// Runs `work` on the hashing thread (started on first use) and waits for its result.
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new().name("password-hashing".into()).spawn(move || {
            while let Ok(job) = receiver.recv() {
                job();
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the password hashing thread");
        }
        Mutex::new(sender)
    });
    let ticket = QUEUE_GATE.enter().ok_or(AuthError::Busy)?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let result = work();
        drop(ticket);
        let _ = reply.send(result);
    });
    queue
        .lock()
        .map_err(|_| AuthError::Hashing("the hashing queue is poisoned".into()))?
        .send(job)
        .map_err(|_| AuthError::Hashing("the hashing thread is gone".into()))?;
    answer.await.map_err(|_| AuthError::Hashing("the hashing thread dropped a job".into()))?
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, AuthError> {
    on_hashing_thread(move || {
        let hash = hasher()?.hash_password(password.as_bytes()).map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok(hash.to_string())
    })
    .await
}

/// Whether `password` matches `stored`. With no stored hash (an unknown email, a social-only
/// account) a throwaway hash is checked instead, so the answer takes as long either way and does
/// not tell which emails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AuthError> {
    on_hashing_thread(move || {
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

    #[test]
    fn the_hashing_queue_refuses_past_its_bound_and_frees_places_as_jobs_end() {
        let gate = Gate::new(2);
        let first = gate.enter().expect("first place");
        let second = gate.enter().expect("second place");
        assert!(gate.enter().is_none(), "full");
        drop(first);
        let third = gate.enter().expect("a place was freed");
        assert!(gate.enter().is_none(), "full again");
        drop((second, third));
        assert_eq!(gate.queued.load(Ordering::Acquire), 0, "a refused entry leaves nothing counted");
    }

    #[tokio::test]
    async fn a_password_hash_is_argon2id_at_the_product_cost_and_verifies() {
        let stored = hash("밍기적 매일 조금씩".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("밍기적 매일 조금씩".into(), Some(stored.clone())).await.expect("verify"));
        assert!(!verify("밍기적 매일 조금".into(), Some(stored)).await.expect("verify"));
        assert!(!verify("anything at all".into(), None).await.expect("decoy"));
    }
}
