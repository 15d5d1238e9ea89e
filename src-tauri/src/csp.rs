//! The content security policy's image sources follow the configuration: `tauri.conf.json` allows
//! the app's own images, a loopback server and OpenStreetMap's tiles; the sync server the app is
//! configured for (its meetup images) and a custom tile server (`MINGIZUK_TILE_URL`) are added
//! when the app starts, so a real HTTPS server's images and other tiles are not blocked.

use tauri::utils::config::{Config, Csp};

/// The CSP source of `url`'s origin (`https://maps.example.com`, a port kept), with a tile URL's
/// `{s}`-style placeholders in the host turned into a wildcard subdomain; `None` for anything but
/// an `http`/`https` URL of a plain host (a source that could widen the policy is never added).
pub fn origin_source(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => (host, Some(port)),
        Some(_) => return None,
        None => (authority, None),
    };
    let mut labels = Vec::new();
    for (i, label) in host.split('.').enumerate() {
        let placeholder = label.starts_with('{') && label.ends_with('}');
        if placeholder && i == 0 {
            labels.push("*");
        } else if !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            labels.push(label);
        } else {
            return None;
        }
    }
    if labels.len() < 2 && labels.first().is_none_or(|l| *l == "*") {
        return None;
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{scheme}://{}{port}", labels.join(".")))
}

/// Adds the origins of `urls` to the policy's `img-src` (those `origin_source` accepts).
pub fn allow_images(config: &mut Config, urls: &[&str]) {
    let Some(Csp::DirectiveMap(directives)) = config.app.security.csp.as_mut() else { return };
    let images = directives.entry("img-src".to_owned()).or_default();
    for source in urls.iter().filter_map(|url| origin_source(url)) {
        if !images.contains(&source) {
            images.push(source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_or_tile_url_gives_its_origin_and_anything_else_nothing() {
        assert_eq!(origin_source("https://sync.mingizuk.app/"), Some("https://sync.mingizuk.app".into()));
        assert_eq!(origin_source("http://127.0.0.1:8787"), Some("http://127.0.0.1:8787".into()));
        assert_eq!(
            origin_source("https://{s}.tile.example.com/{z}/{x}/{y}.png"),
            Some("https://*.tile.example.com".into())
        );
        assert_eq!(
            origin_source("https://maps.example.com:8443/t/{z}/{x}/{y}"),
            Some("https://maps.example.com:8443".into())
        );
        for refused in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://*",
            "https://{s}/{z}",
            "https://example.com; script-src *",
            "https://exa mple.com/",
            "https://user@example.com/",
            "https://example.com:port/",
            "ftp://example.com/",
            "https://",
        ] {
            assert_eq!(origin_source(refused), None, "{refused}");
        }
    }

    #[test]
    fn the_configured_origins_join_the_image_sources_once() {
        let mut config: Config = serde_json::from_value(serde_json::json!({
            "identifier": "app.mingizuk.test",
            "app": { "security": { "csp": { "default-src": "'self'", "img-src": "'self' http://127.0.0.1:*" } } }
        }))
        .unwrap_or_else(|e| panic!("config: {e}"));
        allow_images(
            &mut config,
            &[
                "https://sync.mingizuk.app",
                "https://{s}.tiles.example.com/{z}/{x}/{y}.png",
                "https://sync.mingizuk.app/v1",
            ],
        );
        let Some(Csp::DirectiveMap(directives)) = &config.app.security.csp else { panic!("a directive map") };
        let images: Vec<String> = directives["img-src"].clone().into();
        assert_eq!(
            images,
            ["'self'", "http://127.0.0.1:*", "https://sync.mingizuk.app", "https://*.tiles.example.com"]
        );
    }
}
