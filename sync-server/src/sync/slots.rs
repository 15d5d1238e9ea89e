//! How many WebSockets of one endpoint (`/v1/sync`, `/v1/chat`) an account holds open on this
//! instance. A user's devices hold one each, a reconnecting one briefly two; beyond
//! [`MAX_PER_ACCOUNT`] the upgrade is refused (`429 too_many_connections`), so what one account's
//! connections keep in memory (mailboxes, documents, rooms, each bounded per connection) is
//! bounded in all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use axum::http::StatusCode;

use crate::error::ApiError;
use crate::storage::UserId;

/// The most connections of one endpoint an account holds open on one instance.
pub const MAX_PER_ACCOUNT: usize = 32;

/// The open connections of one endpoint, by account.
#[derive(Clone)]
pub struct Slots {
    open: Arc<StdMutex<HashMap<UserId, usize>>>,
    max: usize,
}

impl Default for Slots {
    fn default() -> Self {
        Self::with_max(MAX_PER_ACCOUNT)
    }
}

/// A connection's place among its account's; given back when dropped (the connection ended, or
/// its upgrade never completed).
pub struct Slot {
    slots: Slots,
    user: UserId,
}

impl Slots {
    pub fn with_max(max: usize) -> Self {
        Self { open: Arc::default(), max }
    }

    /// A place for one more connection of `user`, unless the account holds as many as it may.
    pub fn take(&self, user: UserId) -> Result<Slot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(user).or_default();
        if *count >= self.max {
            return Err(ApiError::Rule {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_connections",
                message: format!("an account may hold {} connections of this kind open at once", self.max),
            });
        }
        *count += 1;
        Ok(Slot { slots: self.clone(), user })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_account_holds_at_most_its_share_and_gets_places_back_as_connections_end() {
        let slots = Slots::with_max(2);
        let (alice, bob) = (UserId::random(), UserId::random());
        let first = slots.take(alice).unwrap();
        let _second = slots.take(alice).unwrap();
        let refused = slots.take(alice).err().unwrap();
        assert_eq!((refused.status(), refused.code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_connections"));
        assert!(slots.take(bob).is_ok(), "another account is not counted with it");
        drop(first);
        assert!(slots.take(alice).is_ok());
        assert!(slots.open.lock().unwrap().get(&bob).is_none(), "an account with none open is forgotten");
    }
}
