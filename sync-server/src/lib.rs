//! Mingizuk's sync server (issue 3): accounts, document sync and chat over the same
//! `mingizuk-core` rules the devices use. Until then this crate only pins that dependency.

pub use mingizuk_core::schema::SCHEMA_VERSION;
