//! Throttling of failed logins (PRODUCT.md §2): at most 100 failures per account per hour and 20
//! per client IP per minute; past either, logins are refused before any password is checked.
//!
//! Counted in memory, which is right for one server instance: a restart forgets the counts, and
//! several instances behind one balancer each count on their own (so the effective limit is
//! multiplied by the number of instances). Moving the counters into storage is the step for a
//! multi-instance deployment.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins one account may take per window.
pub const ACCOUNT_FAILURES_PER_HOUR: usize = 100;
pub const ACCOUNT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// Failed logins one client IP may make per window.
pub const IP_FAILURES_PER_MINUTE: usize = 20;
pub const IP_WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked before idle ones are swept, so a flood of distinct keys cannot grow memory forever.
const SWEEP_ABOVE_KEYS: usize = 10_000;

/// Failure times per key within a sliding window.
struct Window<K> {
    limit: usize,
    span: Duration,
    failures: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Eq + Hash + Clone> Window<K> {
    fn new(limit: usize, span: Duration) -> Self {
        Self { limit, span, failures: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, VecDeque<Instant>>> {
        // A panic while holding the lock leaves plain counters behind, still usable.
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_exhausted(&self, key: &K, now: Instant) -> bool {
        let mut map = self.lock();
        let Some(times) = map.get_mut(key) else { return false };
        Self::forget_old(times, now, self.span);
        times.len() >= self.limit
    }

    fn record(&self, key: K, now: Instant) {
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE_KEYS {
            let span = self.span;
            map.retain(|_, times| {
                Self::forget_old(times, now, span);
                !times.is_empty()
            });
        }
        let times = map.entry(key).or_default();
        Self::forget_old(times, now, self.span);
        times.push_back(now);
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }

    fn forget_old(times: &mut VecDeque<Instant>, now: Instant, span: Duration) {
        while times.front().is_some_and(|t| now.duration_since(*t) >= span) {
            times.pop_front();
        }
    }
}

/// The two windows of failed logins: per account (keyed by normalised email, so unknown emails are
/// throttled alike) and per client IP.
pub struct LoginThrottle {
    per_account: Window<String>,
    per_ip: Window<IpAddr>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle")
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginThrottle {
    pub fn new() -> Self {
        Self {
            per_account: Window::new(ACCOUNT_FAILURES_PER_HOUR, ACCOUNT_WINDOW),
            per_ip: Window::new(IP_FAILURES_PER_MINUTE, IP_WINDOW),
        }
    }

    /// Whether another attempt for `email` from `ip` may be checked now.
    pub fn allows(&self, email: &str, ip: IpAddr) -> bool {
        let now = Instant::now();
        !self.per_ip.is_exhausted(&ip, now) && !self.per_account.is_exhausted(&email.to_owned(), now)
    }

    pub fn record_failure(&self, email: &str, ip: IpAddr) {
        let now = Instant::now();
        self.per_ip.record(ip, now);
        self.per_account.record(email.to_owned(), now);
    }

    /// A successful login clears the account's failures (not the IP's: one right guess among many
    /// wrong ones should not reset an attacker's budget).
    pub fn record_success(&self, email: &str) {
        self.per_account.clear(&email.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_expire_after_their_window() {
        let window = Window::new(2, Duration::from_secs(60));
        let start = Instant::now();
        window.record("ana", start);
        window.record("ana", start + Duration::from_secs(30));
        assert!(window.is_exhausted(&"ana", start + Duration::from_secs(31)));
        assert!(!window.is_exhausted(&"bo", start + Duration::from_secs(31)));
        assert!(!window.is_exhausted(&"ana", start + Duration::from_secs(61)), "the first failure aged out");
    }

    #[test]
    fn the_ip_limit_holds_across_accounts_and_success_clears_only_the_account() {
        let throttle = LoginThrottle::new();
        let ip: IpAddr = [192, 0, 2, 7].into();
        for i in 0..IP_FAILURES_PER_MINUTE {
            assert!(throttle.allows(&format!("user{i}@example.com"), ip));
            throttle.record_failure(&format!("user{i}@example.com"), ip);
        }
        assert!(!throttle.allows("someone-new@example.com", ip));
        assert!(throttle.allows("someone-new@example.com", [192, 0, 2, 8].into()));
        throttle.record_success("user0@example.com");
        assert!(!throttle.allows("user0@example.com", ip));
    }
}
