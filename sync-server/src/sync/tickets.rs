//! Single-use tickets for WebSocket clients that cannot set an `Authorization` header (browsers,
//! the JavaScript automerge-repo client): `POST /v1/ws-ticket` trades a valid access token for a
//! random ticket that opens one connection within a minute. Kept in memory, by hash: a ticket
//! lives for seconds, and a restart only makes clients ask again. (With several server
//! instances behind a balancer without affinity a ticket must be redeemed where it was issued.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::storage::UserId;

pub const TICKET_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Tickets {
    live: Mutex<HashMap<[u8; 32], (UserId, Instant)>>,
}

impl Tickets {
    /// A new ticket for `user`, valid once for [`TICKET_LIFETIME`].
    pub fn issue(&self, user: UserId) -> String {
        let secret: [u8; 32] = rand::random();
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let now = Instant::now();
        if let Ok(mut live) = self.live.lock() {
            live.retain(|_, (_, expires)| *expires > now);
            live.insert(Self::hash(&ticket), (user, now + TICKET_LIFETIME));
        }
        ticket
    }

    /// The user a ticket was issued to, if it is live; it is spent either way.
    pub fn redeem(&self, ticket: &str) -> Option<UserId> {
        let (user, expires) = self.live.lock().ok()?.remove(&Self::hash(ticket))?;
        (expires > Instant::now()).then_some(user)
    }

    fn hash(ticket: &str) -> [u8; 32] {
        Sha256::digest(ticket.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once() {
        let tickets = Tickets::default();
        let user = UserId::random();
        let ticket = tickets.issue(user);
        assert_eq!(tickets.redeem(&ticket), Some(user));
        assert_eq!(tickets.redeem(&ticket), None);
        assert_eq!(tickets.redeem("made-up"), None);
    }
}
