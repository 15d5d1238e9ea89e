//! What one connection knows of one document's sync with the server.

use mingizuk_core::automerge::sync;
use mingizuk_core::schema::DocKind;

pub(super) struct DocSync {
    pub(super) kind: DocKind,
    pub(super) state: sync::State,
    /// The server said it has no such document, and this device had nothing of it either when
    /// it asked; cleared when the server sends some of it or this device sends its own.
    pub(super) unavailable: bool,
    /// A request (this device held nothing of it) was sent and not answered yet: a
    /// `doc-unavailable` is its answer, even if this device has written to the document since.
    pub(super) asked: bool,
    /// Messages received in a row that brought nothing while the document is not in sync.
    pub(super) fruitless: u32,
    /// The document cannot be used here (the server sent what this build cannot read, a newer
    /// app's or a faulty peer's, or its copy on this device is damaged): it is left alone for the
    /// rest of the connection, so that every other document goes on syncing. The next
    /// connection tries again. Holds the code of the error that set it aside, for the status.
    pub(super) set_aside: Option<String>,
}

impl DocSync {
    /// A document not exchanged yet on this connection.
    pub(super) fn new(kind: DocKind) -> Self {
        DocSync { kind, state: sync::State::new(), unavailable: false, asked: false, fruitless: 0, set_aside: None }
    }
}
