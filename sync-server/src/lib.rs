//! Mingizuk's sync server (issue 3): the HTTP skeleton (`http::app`, the error format, `/healthz`,
//! `/openapi.json`), layered configuration, the storage interface with its SQLite and MySQL
//! backends, and local accounts with tokens (`auth`). Social login and document sync build on these;
//! issue 4 adds image uploads (`media`), place search (`places`) and idempotent writes (`idempotency`).
//! `main.rs` is glue: it loads the configuration, opens storage and calls [`server::serve`].

pub mod auth;
mod bus;
pub mod chat;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod media;
pub mod meetups;
pub mod openapi;
pub mod places;
pub mod rate;
pub mod server;
pub mod storage;
pub mod sync;

pub use config::Config;
pub use error::{ApiError, Json};
pub use http::{AppState, app};
pub use mingizuk_core::schema::SCHEMA_VERSION;
