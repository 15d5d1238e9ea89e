//! How many CBOR data items a frame holds, read from their headers alone: nothing is built and
//! nothing allocated, so a frame can be refused before a decoder turns millions of one-byte items
//! into millions of values (a 16 MB frame of small integers would take gigabytes as a tree).

/// Whether `bytes` hold at most `limit` CBOR items. Every header counts once (a container's own,
/// each of its elements, an indefinite length's break, what follows the first item), so the count
/// is never below what a decoder builds; a string's content is skipped by its length. Truncated or
/// malformed bytes are left to the decoder to refuse.
pub(super) fn at_most(bytes: &[u8], limit: usize) -> bool {
    let mut at = 0usize;
    let mut items = 0usize;
    while let Some(&initial) = bytes.get(at) {
        items += 1;
        if items > limit {
            return false;
        }
        at += 1;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let width = 1usize << (info - 24);
                let Some(field) = bytes.get(at..at + width) else { return true };
                at += width;
                field.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))
            }
            // An indefinite length, a break, or reserved: no argument to read.
            _ => 0,
        };
        let definite_string = matches!(major, 2 | 3) && info != 31;
        if definite_string {
            at = at.saturating_add(usize::try_from(argument).unwrap_or(usize::MAX));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use ciborium::Value;

    use super::*;

    fn cbor(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = ciborium::into_writer(value, &mut out);
        out
    }

    #[test]
    fn counts_every_item_once_and_strings_as_one() {
        let value = Value::Map(vec![
            (Value::Text("data".into()), Value::Bytes(vec![0; 100_000])),
            (Value::Text("list".into()), Value::Array(vec![Value::Integer(1.into()), Value::Float(1.5)])),
            (Value::Text("tagged".into()), Value::Tag(64, Box::new(Value::Bytes(vec![1, 2])))),
        ]);
        let bytes = cbor(&value);
        // The map, three keys, the bytes, the array and its two elements, the tag and its bytes.
        assert!(at_most(&bytes, 10));
        assert!(!at_most(&bytes, 9));
    }

    #[test]
    fn indefinite_lengths_count_their_chunks_and_break() {
        // An indefinite array of two ones, then an indefinite byte string of two chunks.
        let bytes = [0x9f, 0x01, 0x01, 0xff, 0x5f, 0x41, 0xaa, 0x41, 0xbb, 0xff];
        assert!(at_most(&bytes, 8));
        assert!(!at_most(&bytes, 7));
    }

    #[test]
    fn truncated_or_huge_lengths_end_the_count() {
        // A byte string claiming 2^64 - 1 bytes, and a header cut short.
        assert!(at_most(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00], 1));
        assert!(at_most(&[0x1b, 0x00], 1));
    }
}
