//! Reading automerge's binary formats (chunks, sync messages) just far enough to check them
//! before automerge parses them. Never panics and never allocates: every length read is checked
//! against the bytes actually there.

/// A position in bytes being read.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// What has not been read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(*first)
    }

    /// The next `len` bytes, if there are that many.
    pub(super) fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let len = usize::try_from(len).ok()?;
        if len > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(taken)
    }

    /// An unsigned LEB128 number, refused where automerge's `leb128_u64` refuses it (too large,
    /// or overlong).
    pub(super) fn uleb(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            if shift < 64 {
                value |= u64::from(byte & 0x7f) << shift;
            }
            shift += 7;
            if byte & 0x80 == 0 {
                let too_large = shift > 64 && byte > 1;
                let overlong = shift > 7 && byte == 0;
                return (!too_large && !overlong).then_some(value);
            }
            if shift > 64 {
                return None;
            }
        }
    }

    /// A LEB128 length followed by that many bytes.
    pub(super) fn length_prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.uleb()?;
        self.take(len)
    }

    /// A LEB128 count followed by that many `width`-byte items (change hashes: 32).
    pub(super) fn fixed_items(&mut self, width: u64) -> Option<&'a [u8]> {
        let count = self.uleb()?;
        self.take(count.checked_mul(width)?)
    }
}

/// Appends `value` as unsigned LEB128.
pub(super) fn write_uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
