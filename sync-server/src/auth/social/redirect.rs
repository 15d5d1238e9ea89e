//! Where a social sign-in may hand the app its one-time code: a loopback address on any port
//! (`http://127.0.0.1:<port>/…` or `http://[::1]:<port>/…`, RFC 8252 §7.3) or the app's configured
//! deep link. Anything else would let a page that starts a sign-in collect someone's code.

use std::net::{Ipv4Addr, Ipv6Addr};

use oauth2::url::{Host, Url};

use super::super::AuthError;

/// The longest app redirect_uri accepted (storage keeps up to 2048 characters).
pub const APP_REDIRECT_MAX_LEN: usize = 2048;

/// The app's redirect_uri, if the allow-list admits it.
pub fn check_app_redirect(uri: &str, deep_link: &str) -> Result<Url, AuthError> {
    if uri.len() > APP_REDIRECT_MAX_LEN {
        return Err(AuthError::RedirectUriNotAllowed);
    }
    let url = Url::parse(uri).map_err(|_| AuthError::RedirectUriNotAllowed)?;
    let plain = url.fragment().is_none() && url.username().is_empty() && url.password().is_none();
    if plain && (is_loopback(&url) || is_deep_link(&url, deep_link)) {
        Ok(url)
    } else {
        Err(AuthError::RedirectUriNotAllowed)
    }
}

/// An IP loopback literal over http with an explicit port; `localhost` is refused, as RFC 8252
/// advises, since a name can resolve elsewhere.
fn is_loopback(url: &Url) -> bool {
    let host_ok = match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        _ => false,
    };
    url.scheme() == "http" && host_ok && url.port().is_some()
}

/// Same scheme and host as the deep link, and a path at or under its path.
fn is_deep_link(url: &Url, deep_link: &str) -> bool {
    let Ok(allowed) = Url::parse(deep_link) else { return false };
    let base = allowed.path().trim_end_matches('/');
    let path = url.path();
    url.scheme() == allowed.scheme()
        && url.host_str() == allowed.host_str()
        && url.port() == allowed.port()
        && (base.is_empty() || path == base || path.starts_with(&format!("{base}/")))
}

/// `url` with `pairs` added to its query.
pub fn with_query(mut url: Url, pairs: &[(&str, &str)]) -> Url {
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEEP_LINK: &str = "mingizuk://auth";

    #[test]
    fn loopback_on_any_port_and_the_deep_link_are_allowed() {
        for ok in [
            "http://127.0.0.1:49152/callback",
            "http://127.0.0.1:8080/",
            "http://[::1]:3000/done?x=1",
            "mingizuk://auth",
            "mingizuk://auth/done",
        ] {
            assert!(check_app_redirect(ok, DEEP_LINK).is_ok(), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "https://evil.example/cb",
            "http://localhost:8080/cb",
            "http://127.0.0.1/cb",
            "https://127.0.0.1:8080/cb",
            "http://127.0.0.2:8080/cb",
            "http://user@127.0.0.1:8080/cb",
            "http://127.0.0.1:8080/cb#fragment",
            "mingizuk://other",
            "mingizuk://authx",
            "other://auth",
            "not a url",
        ] {
            assert!(check_app_redirect(bad, DEEP_LINK).is_err(), "{bad}");
        }
    }
}
