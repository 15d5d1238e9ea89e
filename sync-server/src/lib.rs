//! Mingizuk's sync server (issue 3): the HTTP skeleton (`http::app`, the error format, `/healthz`,
//! `/openapi.json`), layered configuration, the storage interface with its SQLite and MySQL
//! backends, and local accounts with tokens (`auth`). Social login and document sync build on these.
//! `main.rs` is glue: it loads the configuration, opens storage and calls [`server::serve`].

pub mod auth;
pub mod chat;
pub mod config;
pub mod error;
pub mod http;
pub mod openapi;
pub mod rate;
pub mod server;
pub mod storage;
pub mod sync;

pub use config::Config;
pub use error::{ApiError, Json};
pub use http::{AppState, app};
pub use mingizuk_core::schema::SCHEMA_VERSION;
