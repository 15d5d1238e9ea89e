//! The Tauri shell of Mingizuk. Until the desktop app lands (issue 5) this crate only pins the
//! dependency direction `src-tauri → client → core`: its commands will be one-liners over
//! `mingizuk_client::Engine`.

pub use mingizuk_client::Engine;
