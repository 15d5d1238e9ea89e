//! Mingizuk's pure domain: the catalog, the rules of routines, cycles, exp and characters, the
//! Automerge document schema, and the fold from documents to derived state.
//!
//! Nothing here touches a file, a socket, a clock or a random source: every instant, id and
//! random number is handed in by the caller, so the same rules run the same way on every device
//! and on the server.

pub mod catalog;
pub mod error;
pub mod export;
pub mod fold;
pub mod history;
pub mod limits;
pub mod model;
pub mod place;
pub mod region;
pub mod rules;
pub mod schema;
pub mod wire;

pub use automerge;
pub use error::RuleError;
