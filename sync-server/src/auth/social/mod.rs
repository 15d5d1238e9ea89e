//! Social sign-in through Google, Kakao and Naver (PRODUCT.md §2, DESIGN.md "Auth"): authorization
//! code with PKCE and `state` (and `nonce` for OpenID Connect), finished by the server, which then
//! hands the app a one-time code on its loopback address or deep link (RFC 8252); the app trades
//! that code, with the verifier of the challenge it started with, for a session.
//!
//! `flow` holds the three steps over `dyn Storage`, `providers` the provider protocol, `oidc` the
//! id_token checks, `redirect` the app redirect allow-list, `routes` the handlers. A social identity
//! is keyed by (provider, subject), never by email; storage keeps started sign-ins and one-time
//! codes so they work across restarts and instances, and takes each exactly once.

mod flow;
mod oidc;
mod providers;
mod redirect;
mod routes;

use chrono::Duration;

pub use routes::router;

/// How long a started sign-in waits for the provider's callback.
pub const OAUTH_STATE_LIFETIME: Duration = Duration::minutes(10);
/// How long the app's one-time code stays good.
pub const APP_CODE_LIFETIME: Duration = Duration::seconds(60);
