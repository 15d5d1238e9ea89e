//! Throttling of failed logins (PRODUCT.md §2): at most 100 failures per account per hour and 20
//! per client IP per minute; past either, logins are refused before any password is checked.
//!
//! An attempt is counted as a failure when it begins ([`LoginThrottle::begin`]): counted only
//! after the (slow) check, a burst of attempts sent at once would all pass the limit before the
//! first failure was recorded. It stays counted only if its password turns out wrong
//! ([`Attempt::failed`]); an attempt that ends otherwise (the right password, the server busy or
//! failing, the client gone before the answer) gives its place back.
//!
//! A client is its IP address, an IPv6 one by its /64 (`client_key`): the TCP peer, or behind a
//! configured reverse proxy the address its `X-Forwarded-For` vouches for (`crate::client_ip`).
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
/// Social sign-ins one client IP may start per window: each stores a pending sign-in (kept until it
/// expires), so an unthrottled start would let anyone fill the table.
pub const IP_SOCIAL_STARTS_PER_MINUTE: usize = 30;
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

    #[cfg(test)]
    fn is_exhausted(&self, key: &K, now: Instant) -> bool {
        let mut map = self.lock();
        let Some(times) = map.get_mut(key) else { return false };
        Self::forget_old(times, now, self.span);
        times.len() >= self.limit
    }

    /// Records a failure at `now` unless the key is at its limit; checked and recorded under one
    /// lock, so concurrent attempts cannot all pass.
    fn take(&self, key: K, now: Instant) -> bool {
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
        if times.len() >= self.limit {
            return false;
        }
        times.push_back(now);
        true
    }

    /// Forgets the failure recorded at `at` (an attempt that did not fail after all).
    fn give_back(&self, key: &K, at: Instant) {
        let mut map = self.lock();
        if let Some(times) = map.get_mut(key)
            && let Some(i) = times.iter().rposition(|t| *t == at)
        {
            times.remove(i);
        }
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

/// The key a client address is counted under: an IPv6 client by its /64 (one subscriber's
/// network, whose addresses it may rotate through freely), an IPv4-mapped address as the IPv4 one.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The two windows of failed logins: per account (keyed by normalised email, so unknown emails are
/// throttled alike) and per client IP.
pub struct LoginThrottle {
    per_account: Window<String>,
    per_ip: Window<IpAddr>,
    social_starts: Window<IpAddr>,
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
            social_starts: Window::new(IP_SOCIAL_STARTS_PER_MINUTE, IP_WINDOW),
        }
    }

    /// Counts a social sign-in started from `ip`; false past `IP_SOCIAL_STARTS_PER_MINUTE`.
    pub fn social_start(&self, ip: IpAddr) -> bool {
        self.social_starts.take(client_key(ip), Instant::now())
    }

    /// Begins an attempt for `email` from `ip`, counted as a failure while it lasts; `None` when
    /// either limit is reached (nothing is counted then).
    pub fn begin(&self, email: &str, ip: IpAddr) -> Option<Attempt<'_>> {
        let (at, ip) = (Instant::now(), client_key(ip));
        if !self.per_ip.take(ip, at) {
            return None;
        }
        if !self.per_account.take(email.to_owned(), at) {
            self.per_ip.give_back(&ip, at);
            return None;
        }
        Some(Attempt { throttle: self, email: email.to_owned(), ip, at, failed: false })
    }
}

/// An attempt under way, counted as a failure (see [`LoginThrottle::begin`]) until it ends:
/// [`Attempt::failed`] keeps it counted, anything else gives its place back when dropped.
#[must_use = "an attempt whose password is wrong must be kept with `failed`"]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    email: String,
    ip: IpAddr,
    at: Instant,
    failed: bool,
}

impl Attempt<'_> {
    /// The password was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.failed = true;
    }

    /// The password was right: not a failure, and the account's earlier failures are cleared (not
    /// the IP's: one right guess among many wrong ones should not reset an attacker's budget).
    pub fn succeeded(self) {
        self.throttle.per_account.clear(&self.email);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.failed {
            self.throttle.per_ip.give_back(&self.ip, self.at);
            self.throttle.per_account.give_back(&self.email, self.at);
        }
    }
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt").field("email", &self.email).field("ip", &self.ip).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_bit_network_however_it_rotates_its_address() {
        let throttle = LoginThrottle::new();
        let address = |host: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 7, 0, 0, 0, host));
        for host in 0..IP_SOCIAL_STARTS_PER_MINUTE {
            assert!(throttle.social_start(address(host as u16)), "start {host}");
        }
        assert!(!throttle.social_start(address(9999)), "another address of the same /64");
        assert!(throttle.social_start(IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 8, 0, 0, 0, 1))));
        for i in 0..IP_FAILURES_PER_MINUTE {
            throttle.begin(&format!("user{i}@example.com"), address(i as u16)).expect("under the limit").failed();
        }
        assert!(throttle.begin("someone@example.com", address(4242)).is_none(), "failed logins too");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client_key(mapped), IpAddr::V4([192, 0, 2, 7].into()));
    }

    #[test]
    fn failures_expire_after_their_window() {
        let window = Window::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert!(window.take("ana", start));
        assert!(window.take("ana", start + Duration::from_secs(30)));
        assert!(!window.take("ana", start + Duration::from_secs(31)), "at its limit");
        assert!(window.is_exhausted(&"ana", start + Duration::from_secs(31)));
        assert!(!window.is_exhausted(&"bo", start + Duration::from_secs(31)));
        assert!(!window.is_exhausted(&"ana", start + Duration::from_secs(61)), "the first failure aged out");
    }

    #[test]
    fn the_ip_limit_holds_across_accounts_and_success_clears_only_the_account() {
        let throttle = LoginThrottle::new();
        let ip: IpAddr = [192, 0, 2, 7].into();
        for i in 0..IP_FAILURES_PER_MINUTE {
            throttle.begin(&format!("user{i}@example.com"), ip).expect("under the limit").failed();
        }
        assert!(throttle.begin("someone-new@example.com", ip).is_none());
        throttle.begin("user0@example.com", [192, 0, 2, 8].into()).expect("another address").succeeded();
        assert!(throttle.begin("user0@example.com", ip).is_none(), "the address's failures stay");
    }

    #[test]
    fn attempts_under_way_count_against_the_limit_and_only_a_wrong_password_stays_counted() {
        let throttle = LoginThrottle::new();
        let ip: IpAddr = [192, 0, 2, 9].into();
        let under_way: Vec<Attempt<'_>> =
            (0..IP_FAILURES_PER_MINUTE).map_while(|_| throttle.begin("ana@example.com", ip)).collect();
        assert_eq!(under_way.len(), IP_FAILURES_PER_MINUTE);
        assert!(throttle.begin("ana@example.com", ip).is_none(), "no attempt has finished yet");
        let mut under_way = under_way.into_iter();
        under_way.next().expect("one").succeeded();
        drop(under_way.next().expect("two")); // the server could not check it
        for wrong in under_way {
            wrong.failed();
        }
        let freed: Vec<Attempt<'_>> = (0..3).map_while(|_| throttle.begin("ana@example.com", ip)).collect();
        assert_eq!(freed.len(), 2, "the right password and the unchecked one gave their places back");
    }
}
