//! Small JSON files of the shell in the data folder (device settings, reminders already sent),
//! written whole to a temporary file and renamed so that a crash never leaves half a file.

use std::path::Path;

use serde::Serialize;

use crate::error::{AppError, CommandResult};

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> CommandResult<()> {
    let io = |e: std::io::Error| AppError::new("storage_failed", format!("cannot write {}: {e}", path.display()));
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| AppError::new("internal", e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
