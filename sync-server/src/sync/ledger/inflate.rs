//! Compressed automerge chunks, inflated under a budget before automerge parses them.
//!
//! automerge inflates a compressed change chunk, and each compressed column of a document chunk,
//! with `read_to_end` and no limit, before any checksum: deflate shrinks a run of zeros about a
//! thousand times, so a 16 MiB message could ask for 16 GiB. Here a compressed change is
//! inflated by the server itself, at most its allowance, and handed to automerge as the plain
//! change chunk it stands for; a document's compressed columns are inflated into nothing first,
//! only to count them, so that automerge's own inflation of them is known to stay within bounds.

use std::io::Read;

use flate2::bufread::DeflateDecoder;

use super::cursor::{Cursor, write_uleb};

/// What the compressed chunks of one message may still inflate to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Allowance {
    /// Bytes of compressed change chunks, once inflated.
    pub changes: usize,
    /// Bytes of documents' compressed columns, once inflated.
    pub documents: usize,
}

/// The plain change chunk (type 1) that the compressed one `chunk` (type 2, whose header takes
/// `header_len` bytes) stands for: automerge's compressed form deflates the body of the plain one
/// and keeps its checksum. Takes what it inflates from `allowance`.
pub(super) fn plain_change(chunk: &[u8], header_len: usize, allowance: &mut usize) -> Result<Vec<u8>, String> {
    let (magic_and_checksum, body) = (chunk.get(..8), chunk.get(header_len..));
    let (Some(magic_and_checksum), Some(body)) = (magic_and_checksum, body) else {
        return Err("truncated".into());
    };
    let limit = allowance.saturating_add(1) as u64;
    let mut inflated = Vec::new();
    DeflateDecoder::new(body)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|_| "the compressed change does not inflate".to_owned())?;
    *allowance = allowance.checked_sub(inflated.len()).ok_or_else(|| too_large("compressed changes"))?;
    let mut plain = Vec::with_capacity(inflated.len() + 20);
    plain.extend_from_slice(magic_and_checksum);
    plain.push(super::chunks::CHANGE_CHUNK);
    write_uleb(&mut plain, inflated.len() as u64);
    plain.extend_from_slice(&inflated);
    Ok(plain)
}

/// Counts what the compressed columns of the document chunk `body` (the bytes after its header)
/// inflate to, against `allowance`, walking the chunk as automerge's `Document::parse` does:
/// actors, heads, change columns' and operation columns' metadata, then their data.
pub(super) fn check_document(body: &[u8], allowance: &mut usize) -> Result<(), String> {
    let malformed = || "a malformed document".to_owned();
    let mut at = Cursor::new(body);
    let actors = at.uleb().ok_or_else(malformed)?;
    for _ in 0..actors {
        at.length_prefixed().ok_or_else(malformed)?;
    }
    at.fixed_items(32).ok_or_else(malformed)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        let count = at.uleb().ok_or_else(malformed)?;
        for _ in 0..count {
            let spec = at.uleb().filter(|s| u32::try_from(*s).is_ok()).ok_or_else(malformed)?;
            let len = at.uleb().ok_or_else(malformed)?;
            columns.push((spec & DEFLATE_BIT != 0, len));
        }
    }
    for (deflated, len) in columns {
        let data = at.take(len).ok_or_else(malformed)?;
        if !deflated {
            continue;
        }
        let limit = allowance.saturating_add(1) as u64;
        let inflated = std::io::copy(&mut DeflateDecoder::new(data).take(limit), &mut std::io::sink())
            .map_err(|_| "a document column does not inflate".to_owned())?;
        let inflated = usize::try_from(inflated).map_err(|_| too_large("documents"))?;
        *allowance = allowance.checked_sub(inflated).ok_or_else(|| too_large("documents"))?;
    }
    Ok(())
}

/// The bit of a column specification that says its data is deflated.
const DEFLATE_BIT: u64 = 0b1000;

fn too_large(what: &str) -> String {
    format!("{what} inflate past what one message may hold")
}
