//! Automerge's storage chunks, as far as the ledger needs them: where one ends, and the changes
//! inside. Compressed data is inflated within an [`Allowance`] (see [`super::inflate`]).

use automerge::{Automerge, Change};

use super::LedgerError;
use super::inflate::{Allowance, check_document, plain_change};

const MAGIC_BYTES: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT_CHUNK: u8 = 0;
pub(super) const CHANGE_CHUNK: u8 = 1;
const COMPRESSED_CHANGE_CHUNK: u8 = 2;

/// Parses a sequence of automerge chunks into changes: change chunks as they are, documents
/// unpacked into their changes. What compressed chunks inflate to is taken from `allowance`.
pub(super) fn split_chunks(bytes: &[u8], out: &mut Vec<Change>, allowance: &mut Allowance) -> Result<(), LedgerError> {
    let mut at = 0;
    while at < bytes.len() {
        let fail = |reason: String| LedgerError::Chunk { at, reason };
        let (kind, header_len, len) =
            chunk_header(&bytes[at..]).ok_or_else(|| fail("not an automerge chunk".into()))?;
        let chunk = at.checked_add(len).and_then(|end| bytes.get(at..end)).ok_or_else(|| fail("truncated".into()))?;
        match kind {
            CHANGE_CHUNK | COMPRESSED_CHANGE_CHUNK => {
                let plain;
                let change_chunk = if kind == COMPRESSED_CHANGE_CHUNK {
                    plain = plain_change(chunk, header_len, &mut allowance.changes).map_err(fail)?;
                    &plain[..]
                } else {
                    chunk
                };
                let change = Change::try_from(change_chunk).map_err(|e| fail(e.to_string()))?;
                if change.hash().0[..4] != chunk[4..8] {
                    return Err(fail("checksum mismatch".into()));
                }
                out.push(change);
            }
            DOCUMENT_CHUNK => {
                check_document(&chunk[header_len..], &mut allowance.documents).map_err(fail)?;
                let doc = Automerge::load(chunk).map_err(|e| fail(e.to_string()))?;
                out.extend(doc.get_changes(&[]));
            }
            other => return Err(fail(format!("unsupported chunk type {other}"))),
        }
        at += len;
    }
    Ok(())
}

/// A chunk's type, the length of its header and its whole length (header included): magic bytes,
/// checksum, type, LEB128 length.
fn chunk_header(bytes: &[u8]) -> Option<(u8, usize, usize)> {
    if bytes.get(..4)? != MAGIC_BYTES {
        return None;
    }
    let kind = *bytes.get(8)?;
    let mut len: u64 = 0;
    let mut at = 9;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return at.checked_add(usize::try_from(len).ok()?).map(|total| (kind, at, total));
        }
    }
    None
}
