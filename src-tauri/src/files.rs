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

/// Writes `text` as a new file `<stem>.<ext>` in `dir` (created if missing), or `<stem>-2.<ext>`,
/// `<stem>-3.<ext>`… when the name is taken: an export never overwrites an earlier one.
pub fn write_new(dir: &Path, stem: &str, ext: &str, text: &str) -> CommandResult<std::path::PathBuf> {
    use std::io::Write;
    let io = |e: std::io::Error| AppError::new("storage_failed", format!("cannot write in {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    for n in 1u32.. {
        let name = if n == 1 { format!("{stem}.{ext}") } else { format!("{stem}-{n}.{ext}") };
        let path = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.sync_all()) {
                    // A disk that filled up leaves no half export behind.
                    let _ = std::fs::remove_file(&path);
                    return Err(io(e));
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    }
    unreachable!("some file name is always free")
}
