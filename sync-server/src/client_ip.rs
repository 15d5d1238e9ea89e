//! Who a request comes from, for everything keyed on the client's IP (the login and social
//! sign-in throttles). Without configured proxies that is the TCP peer. Behind a reverse proxy the
//! peer is the proxy, so when the peer is one of `trusted_proxies` the client is read from
//! `X-Forwarded-For`, right to left: each trusted hop vouches for the entry to its left, and the
//! first entry that is not a trusted proxy is the client. Whatever a client writes into the header
//! itself sits left of the address its proxy appends, so it is never reached: a client cannot
//! choose the IP it is counted under. That holds for clients outside the listed ranges only: list
//! the proxies, not networks clients also come from. The `Forwarded` header (RFC 7239) is not read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

use crate::config::TrustedProxies;
use crate::http::AppState;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's IP address as [`client_ip`] decides it. Without connection info (in-process tests
/// through `oneshot`) the peer counts as `0.0.0.0`.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(address)| address.ip());
        Ok(Self(client_ip(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

/// The client of a request that reached us from `peer` with `headers`, in canonical form (an
/// IPv4-mapped IPv6 address as its IPv4 one).
///
/// - The peer is not a trusted proxy: the peer, and `X-Forwarded-For` is ignored.
/// - Otherwise the header's entries (several header lines read as one list, in order) are walked
///   from the right, skipping trusted proxies; the first other address is the client.
/// - No header, every hop trusted, or a malformed entry reached before an untrusted address: the
///   peer. A proxy appends the address it saw, always well formed, so a malformed entry can only
///   have been written by someone the chain does not vouch for; stopping there keeps the answer to
///   addresses trusted hops wrote.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    for value in headers.get_all(X_FORWARDED_FOR).iter().rev() {
        // Entry by entry: bytes a client wrote left of the address its proxy appended (nginx
        // appends to the client's own line) are never read, so they cannot spoil the line.
        for entry in value.as_bytes().rsplit(|byte| *byte == b',') {
            let entry = std::str::from_utf8(entry).ok().filter(|e| e.is_ascii());
            match entry.and_then(forwarded_address) {
                Some(hop) if trusted.contains(hop) => {}
                Some(client) => return client,
                None => return peer,
            }
        }
    }
    peer
}

/// One `X-Forwarded-For` entry: an IP address, optionally with a port (`203.0.113.7:41234`,
/// `[2001:db8::7]:41234`, `[2001:db8::7]`) as some proxies write it. Anything else (an empty entry,
/// `unknown`, a host name, an obfuscated RFC 7239 identifier, an IPv6 zone) is malformed: `None`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches([' ', '\t']);
    let ip =
        entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|address| address.ip())).or_else(
            || entry.strip_prefix('[')?.strip_suffix(']')?.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        )?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests;
