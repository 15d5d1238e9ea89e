//! Statements over many rows at once, in a few fixed sizes. Each statement is a round trip (to
//! SQLite's connection thread, or to the MySQL server), so writing rows one statement each costs a
//! round trip per row; one statement per size keeps the prepared statements few and cached.

use std::sync::OnceLock;

use super::ChunkKey;

/// The sizes a run of rows is cut into, largest first.
pub(crate) const SIZES: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// `items` cut into consecutive groups whose lengths are among [`SIZES`], largest first.
pub(crate) fn groups<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let size = SIZES.iter().copied().find(|&n| n <= rest.len())?;
        let (group, tail) = rest.split_at(size);
        rest = tail;
        Some(group)
    })
}

/// One statement's text for each of [`SIZES`], made the first time it is asked for.
pub(crate) struct Statements {
    make: fn(usize) -> String,
    texts: OnceLock<Vec<String>>,
}

impl Statements {
    pub(crate) const fn new(make: fn(usize) -> String) -> Self {
        Self { make, texts: OnceLock::new() }
    }

    /// The text for `rows` rows; `rows` must be one of [`SIZES`] (else the one-row text).
    pub(crate) fn text(&self, rows: usize) -> &str {
        let texts = self.texts.get_or_init(|| SIZES.iter().map(|&n| (self.make)(n)).collect());
        let at = SIZES.iter().position(|&n| n == rows).unwrap_or(SIZES.len() - 1);
        texts[at].as_str()
    }
}

/// `count` placeholders of `group` (such as `"(?, ?)"`), separated by commas.
pub(crate) fn placeholders(group: &str, count: usize) -> String {
    vec![group; count].join(", ")
}

/// `DELETE` of `rows` chunks of one kind of one document: binds the document id, the kind, then
/// the hashes. The same text serves both backends.
pub(crate) static DELETE_CHUNKS: Statements = Statements::new(|rows| {
    format!("DELETE FROM chunks WHERE doc_id = ? AND kind = ? AND hash IN ({})", placeholders("?", rows))
});

/// The chunks a compaction deletes, grouped by kind (the snapshot's own key left out), so each
/// group can go through [`DELETE_CHUNKS`] a few statements at a time.
pub(crate) fn replaced_by_kind(replaced: &[ChunkKey], snapshot: ChunkKey) -> Vec<(i8, Vec<&[u8]>)> {
    let mut by_kind: Vec<(i8, Vec<&[u8]>)> = Vec::new();
    for key in replaced.iter().filter(|key| **key != snapshot) {
        let kind = key.kind_code();
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, hashes)) => hashes.push(key.hash().0.as_slice()),
            None => by_kind.push((kind, vec![key.hash().0.as_slice()])),
        }
    }
    by_kind
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rows_are_cut_into_the_fixed_sizes_largest_first_and_none_is_lost() {
        let items: Vec<usize> = (0..203).collect();
        let sizes: Vec<usize> = groups(&items).map(<[usize]>::len).collect();
        assert_eq!(sizes, vec![64, 64, 64, 8, 2, 1]);
        assert_eq!(groups(&items).flatten().copied().collect::<Vec<_>>(), items);
        assert_eq!(groups::<u8>(&[]).count(), 0);
    }

    #[test]
    fn each_size_has_its_own_statement_with_as_many_placeholders() {
        for rows in SIZES {
            let text = DELETE_CHUNKS.text(rows);
            assert_eq!(text.matches('?').count(), 2 + rows, "{text}");
        }
    }
}
