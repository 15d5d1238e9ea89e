//! `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` the server believes (see
//! `client_ip`). Each entry is an IP address (`10.0.0.7`, `::1`) or a CIDR range (`10.0.0.0/8`,
//! `fd00::/8`); the TOML file takes a list, `MINGIZUK_TRUSTED_PROXIES` a comma-separated one. None
//! by default: the TCP peer is the client. Only parsing and membership live here; the walk of the
//! header does not.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use super::ConfigError;

/// The configured proxies; empty trusts nobody.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ProxyRange>);

/// One entry: the addresses sharing the first `prefix` bits of `network`. IPv4-mapped IPv6 ranges
/// are kept as IPv4 ones, as addresses are compared in their canonical form.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ProxyRange {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxies {
    /// Whether `ip` is one of the proxies (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|range| range.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses entries as written by an operator; the error names the entry and why it is refused.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        entries.into_iter().map(ProxyRange::parse).collect::<Result<_, _>>().map(Self)
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|r| format!("{}/{}", r.network, r.prefix))).finish()
    }
}

impl ProxyRange {
    fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{entry:?} is not an IP address or a CIDR range such as 10.0.0.0/8"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(text) => match text.parse::<u8>() {
                // Digits only: `u8::from_str` would also take "+8".
                Ok(n) if n <= bits && text.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(format!("{entry:?}: the prefix length must be 0 to {bits}")),
            },
        };
        if mask(network, prefix) != network {
            // Refused rather than masked: "10.1.2.3/8" may as well mean one host as the whole /8.
            let base = mask(network, prefix);
            return Err(format!("{entry:?} has bits set past its prefix; write {base}/{prefix} for the range"));
        }
        Ok(match network {
            IpAddr::V6(v6) if prefix >= 96 && v6.to_ipv4_mapped().is_some() => {
                Self { network: network.to_canonical(), prefix: prefix - 96 }
            }
            _ => Self { network, prefix },
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => mask(ip, self.prefix) == self.network,
            _ => false,
        }
    }
}

/// `ip` with every bit past the first `prefix` cleared (`prefix` at most the address's width).
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((v4.to_bits() & keep).into())
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((v6.to_bits() & keep).into())
        }
    }
}

/// The environment's comma-separated list overrides the file's; a bad entry is an error naming
/// where it was written (`MINGIZUK_TRUSTED_PROXIES` or `trusted_proxies`).
pub(super) fn resolve(file: Option<&[String]>, env: &HashMap<String, String>) -> Result<TrustedProxies, ConfigError> {
    const ENV: &str = "MINGIZUK_TRUSTED_PROXIES";
    let refused_at = |key: &'static str| move |message| ConfigError::Invalid { key, message };
    match env.get(ENV).filter(|v| !v.trim().is_empty()) {
        Some(list) => TrustedProxies::parse(list.split(',').filter(|e| !e.trim().is_empty())).map_err(refused_at(ENV)),
        None => TrustedProxies::parse(file.unwrap_or_default().iter().map(String::as_str))
            .map_err(refused_at("trusted_proxies")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries.iter().copied()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn single_addresses_and_ranges_of_both_families_are_trusted_and_nothing_else() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8", "2001:db8:7::/48", "::1"]);
        for inside in ["127.0.0.1", "10.0.0.0", "10.255.255.255", "2001:db8:7:ffff::1", "::1"] {
            assert!(trusted.contains(ip(inside)), "{inside}");
        }
        for outside in ["127.0.0.2", "11.0.0.1", "9.255.255.255", "2001:db8:8::1", "::2", "::"] {
            assert!(!trusted.contains(ip(outside)), "{outside}");
        }
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")), "nobody by default");
        assert!(proxies(&["0.0.0.0/0"]).contains(ip("203.0.113.9")));
        assert!(!proxies(&["0.0.0.0/0"]).contains(ip("2001:db8::1")), "an IPv4 range holds no IPv6 address");
    }

    #[test]
    fn an_ipv4_proxy_seen_through_a_dual_stack_listener_is_still_trusted() {
        assert!(proxies(&["10.0.0.0/8"]).contains(ip("::ffff:10.1.2.3")));
        assert!(proxies(&["::ffff:10.0.0.0/104"]).contains(ip("10.1.2.3")), "a range written mapped");
        assert!(proxies(&["::ffff:10.0.0.7"]).contains(ip("::ffff:10.0.0.7")));
    }

    #[test]
    fn a_bad_entry_is_refused_with_its_text() {
        for bad in
            ["proxy.internal", "10.0.0.256", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/+8", "10.1.2.3/8", ""]
        {
            let error = TrustedProxies::parse([bad]).expect_err(bad);
            assert!(error.contains(&format!("{:?}", bad.trim())), "{bad}: {error}");
        }
        let error = TrustedProxies::parse(["10.1.2.3/8"]).expect_err("host bits");
        assert!(error.contains("10.0.0.0/8"), "suggests the range: {error}");
    }

    #[test]
    fn the_environment_overrides_the_file_and_names_itself_in_errors() {
        let file = vec!["10.0.0.0/8".to_owned()];
        let env = |value: &str| HashMap::from([("MINGIZUK_TRUSTED_PROXIES".to_owned(), value.to_owned())]);
        let from_file = resolve(Some(&file), &HashMap::new()).expect("file");
        assert!(from_file.contains(ip("10.9.9.9")));
        let from_env = resolve(Some(&file), &env(" 127.0.0.1 , ::1,")).expect("env");
        assert!(from_env.contains(ip("::1")) && !from_env.contains(ip("10.9.9.9")));
        assert!(resolve(None, &HashMap::new()).expect("default").is_empty());
        let bad = resolve(None, &env("127.0.0.1, nginx"));
        assert!(
            matches!(&bad, Err(ConfigError::Invalid { key: "MINGIZUK_TRUSTED_PROXIES", message }) if message.contains("nginx"))
        );
        let bad = resolve(Some(&["10.0.0.0/99".to_owned()]), &HashMap::new());
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "trusted_proxies", .. })), "{bad:?}");
    }
}
