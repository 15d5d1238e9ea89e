//! Mingizuk's local-first engine: the headless heart of the app. It keeps the user's Automerge
//! documents and a projection of the derived state in a SQLite file, offers a call for every
//! user action and query, and merges documents from the user's other devices.
//!
//! It owns no UI: the Tauri shell calls it. `sync` signs the device in to the sync server and keeps
//! its documents in step with the account's other devices; everything else works without it.

pub mod clock;
mod documents;
pub mod engine;
pub mod error;
pub mod social;
pub mod store;
pub mod sync;
pub mod views;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Completed, DocumentBytes, Engine};
pub use error::{ClientError, Result};
pub use mingizuk_core as core;
pub use sync::{Cloud, LocalData, SyncPhase, SyncStatus};
