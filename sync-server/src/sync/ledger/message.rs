//! The one way a peer's sync message comes in: read first by the server, which refuses what
//! automerge's decoder accepts but its sync code cannot survive, then decoded by automerge.
//!
//! A `have` entry carries a bloom filter whose parameters come off the wire. automerge checks
//! only that the filter's bits are present; `BloomFilter::contains_hash` then reserves
//! `num_probes` probes (a filter asking for 2³² of them is a 16 GiB allocation: the process
//! aborts) and takes hashes modulo the filter's bit count (no bits while it counts entries: a
//! division by zero, and the connection's task dies without releasing its documents). So every
//! filter's header is checked here, on the raw bytes, before the message is decoded.
//!
//! The same pass bounds what decoding can make of a message: automerge decodes each `have` and
//! each change entry into its own allocations, several times the bytes they take on the wire. An
//! automerge peer sends at most one `have` and never a change entry shorter than a chunk header.

use automerge::sync::Message;

use super::LedgerError;
use super::cursor::Cursor;

/// automerge writes 7 probes per entry; this leaves room for a peer tuned otherwise.
pub const MAX_BLOOM_PROBES: u64 = 32;
/// automerge writes 10 bits per entry.
pub const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;
/// `have` entries one message may carry: automerge sends none or one.
pub const MAX_HAVES: u64 = 16;
/// The shortest automerge chunk: magic bytes, checksum, type and a one-byte length.
const MIN_CHUNK_BYTES: usize = 10;
const HASH_BYTES: u64 = 32;
const MESSAGE_V1: u8 = 0x42;
const MESSAGE_V2: u8 = 0x43;

/// Decodes a peer's sync message, refusing one the server will not hand to automerge.
pub fn decode_message(data: &[u8]) -> Result<Message, LedgerError> {
    screen(data).map_err(|reason| LedgerError::Message(reason.to_owned()))?;
    Message::decode(data).map_err(|e| LedgerError::Message(e.to_string()))
}

/// Walks the message as automerge's `Message::parse` does, up to the end of its change entries.
fn screen(data: &[u8]) -> Result<(), &'static str> {
    let mut at = Cursor::new(data);
    if !matches!(at.byte(), Some(MESSAGE_V1 | MESSAGE_V2)) {
        return Err("not a sync message");
    }
    at.fixed_items(HASH_BYTES).ok_or("truncated heads")?;
    at.fixed_items(HASH_BYTES).ok_or("truncated need")?;
    let haves = at.uleb().ok_or("truncated have")?;
    if haves > MAX_HAVES {
        return Err("too many have entries");
    }
    for _ in 0..haves {
        at.fixed_items(HASH_BYTES).ok_or("truncated last sync")?;
        check_bloom(at.length_prefixed().ok_or("truncated bloom filter")?)?;
    }
    let entries = at.uleb().ok_or("truncated changes")?;
    for _ in 0..entries {
        let entry = at.length_prefixed().ok_or("truncated change entry")?;
        if entry.len() < MIN_CHUNK_BYTES {
            return Err("a change entry too short to hold a chunk");
        }
    }
    Ok(())
}

/// A bloom filter as automerge encodes it: nothing at all for an empty filter, else LEB128
/// `num_entries`, `bits_per_entry` and `num_probes`, then exactly
/// `ceil(num_entries * bits_per_entry / 8)` bytes of bits.
fn check_bloom(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut at = Cursor::new(bytes);
    let entries = at.uleb().filter(|n| u32::try_from(*n).is_ok()).ok_or("bad bloom filter entry count")?;
    let bits_per_entry = at.uleb().ok_or("bad bloom filter bits per entry")?;
    let probes = at.uleb().ok_or("bad bloom filter probe count")?;
    if probes > MAX_BLOOM_PROBES {
        return Err("a bloom filter with too many probes");
    }
    if bits_per_entry > MAX_BLOOM_BITS_PER_ENTRY {
        return Err("a bloom filter with too many bits per entry");
    }
    // Cannot overflow: entries < 2³², bits per entry ≤ 64.
    let expected = (entries * bits_per_entry).div_ceil(8);
    let bits = at.rest().len() as u64;
    if bits != expected {
        return Err("a bloom filter whose bits do not match its entries");
    }
    // automerge takes hashes modulo the bit count, as a u32: it must be neither 0 nor past u32.
    if entries > 0 && (bits == 0 || bits * 8 > u64::from(u32::MAX)) {
        return Err("a bloom filter without usable bits");
    }
    Ok(())
}
