use axum::http::HeaderValue;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn proxies(entries: &[&str]) -> TrustedProxies {
    TrustedProxies::parse(entries.iter().copied()).unwrap_or_else(|e| panic!("{e}"))
}

/// Headers with one `X-Forwarded-For` line per item, in order.
fn forwarded(lines: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in lines {
        headers.append(X_FORWARDED_FOR, HeaderValue::from_bytes(line).unwrap_or_else(|e| panic!("{e}")));
    }
    headers
}

/// The client of a request from the proxy at 10.0.0.1 (trusted, as all of 10.0.0.0/8 and
/// 2001:db8:ffff::/48 are) carrying one `X-Forwarded-For` line.
fn behind_proxy(line: &str) -> IpAddr {
    client_ip(ip("10.0.0.1"), &forwarded(&[line.as_bytes()]), &proxies(&["10.0.0.0/8", "2001:db8:ffff::/48"]))
}

#[test]
fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
    let headers = forwarded(&[b"198.51.100.7"]);
    assert_eq!(client_ip(ip("203.0.113.9"), &headers, &TrustedProxies::default()), ip("203.0.113.9"));
    let trusted = proxies(&["10.0.0.1"]);
    assert_eq!(client_ip(ip("203.0.113.9"), &headers, &trusted), ip("203.0.113.9"), "a peer that is no proxy");
    assert_eq!(client_ip(ip("::ffff:203.0.113.9"), &headers, &trusted), ip("203.0.113.9"), "canonical form");
}

#[test]
fn behind_a_trusted_proxy_the_address_it_appended_is_the_client() {
    assert_eq!(behind_proxy("198.51.100.7"), ip("198.51.100.7"));
    assert_eq!(behind_proxy("2001:db8:1::7"), ip("2001:db8:1::7"));
    assert_eq!(behind_proxy("::ffff:198.51.100.7"), ip("198.51.100.7"));
    assert_eq!(behind_proxy(" \t198.51.100.7 "), ip("198.51.100.7"), "spaces around an entry");
    let trusted = proxies(&["10.0.0.0/8", "::1"]);
    let headers = forwarded(&[b"198.51.100.7"]);
    assert_eq!(client_ip(ip("::ffff:10.0.0.1"), &headers, &trusted), ip("198.51.100.7"), "a dual-stack listener");
    assert_eq!(client_ip(ip("::1"), &headers, &trusted), ip("198.51.100.7"), "an IPv6 proxy");
}

#[test]
fn the_walk_skips_trusted_hops_from_the_right_and_stops_at_the_first_other_address() {
    assert_eq!(behind_proxy("198.51.100.7, 10.0.0.2, 2001:db8:ffff::3"), ip("198.51.100.7"));
    assert_eq!(behind_proxy("192.0.2.1, 198.51.100.7, 10.0.0.2"), ip("198.51.100.7"), "not the left-most");
}

#[test]
fn addresses_a_client_prepends_are_never_reached() {
    // The client sent `X-Forwarded-For: 192.0.2.1, 10.0.0.9`; its proxy appended what it saw.
    assert_eq!(behind_proxy("192.0.2.1, 10.0.0.9, 198.51.100.7"), ip("198.51.100.7"));
    // Or sent its own header line, which the proxy kept before its own.
    let headers = forwarded(&[b"192.0.2.1", b"198.51.100.7"]);
    assert_eq!(client_ip(ip("10.0.0.1"), &headers, &proxies(&["10.0.0.1"])), ip("198.51.100.7"));
    let headers = forwarded(&[b"192.0.2.1, 198.51.100.7, 10.0.0.2", b"10.0.0.3"]);
    assert_eq!(client_ip(ip("10.0.0.1"), &headers, &proxies(&["10.0.0.0/8"])), ip("198.51.100.7"), "lines joined");
}

#[test]
fn with_no_header_or_only_trusted_hops_the_peer_is_the_client() {
    let trusted = proxies(&["10.0.0.0/8"]);
    assert_eq!(client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
    assert_eq!(behind_proxy("10.0.0.3, 10.0.0.2"), ip("10.0.0.1"));
}

#[test]
fn ports_some_proxies_add_are_dropped() {
    assert_eq!(behind_proxy("198.51.100.7:41234"), ip("198.51.100.7"));
    assert_eq!(behind_proxy("[2001:db8:1::7]:41234"), ip("2001:db8:1::7"));
    assert_eq!(behind_proxy("[2001:db8:1::7]"), ip("2001:db8:1::7"));
    // Eight groups with no brackets is an address, never an address and a port.
    assert_eq!(behind_proxy("2001:db8:1::7:443"), ip("2001:db8:1::7:443"));
}

#[test]
fn a_malformed_entry_before_any_untrusted_address_makes_the_peer_the_client() {
    for garbage in [
        "unknown",
        "",
        "_hidden",
        "proxy.example",
        "198.51.100.7:99999",
        "198.51.100.256",
        "fe80::1%eth0",
        "[198.51.100.7]",
        "\"198.51.100.7\"",
    ] {
        assert_eq!(behind_proxy(&format!("192.0.2.1, {garbage}")), ip("10.0.0.1"), "{garbage:?}");
        assert_eq!(behind_proxy(&format!("192.0.2.1, {garbage}, 10.0.0.2")), ip("10.0.0.1"), "{garbage:?}");
        assert_eq!(behind_proxy(&format!("{garbage}, 198.51.100.7")), ip("198.51.100.7"), "{garbage:?} not reached");
    }
    assert_eq!(behind_proxy("192.0.2.1,"), ip("10.0.0.1"), "a trailing comma");
    let opaque = forwarded(&[b"192.0.2.1", "198.51.100.7 \u{e9}".as_bytes()]);
    assert_eq!(client_ip(ip("10.0.0.1"), &opaque, &proxies(&["10.0.0.1"])), ip("10.0.0.1"), "not visible ASCII");
    // A byte the client wrote on the line its proxy appended to is never reached either.
    let spoiled = forwarded(&[b"\xff\xfe, 192.0.2.1, 198.51.100.7"]);
    assert_eq!(client_ip(ip("10.0.0.1"), &spoiled, &proxies(&["10.0.0.1"])), ip("198.51.100.7"), "not reached");
}
