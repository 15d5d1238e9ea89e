-- Settings of this device: its id, the account root it belongs to, the projection version.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- The Automerge documents this device holds.
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY NOT NULL,
    kind   TEXT NOT NULL
) STRICT;

-- Append-only pieces of each document: incremental saves keyed by the hash of their bytes, and
-- snapshots written by compaction. A document is the union of its chunks.
CREATE TABLE chunks (
    doc_id   TEXT NOT NULL REFERENCES documents (doc_id),
    hash     TEXT NOT NULL,
    snapshot INTEGER NOT NULL,
    bytes    BLOB NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT;

-- Every completion version read from each log document (conflicts included), so that opening
-- the engine needs no Automerge parsing of old months.
CREATE TABLE log_entries (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id),
    key    TEXT NOT NULL,
    at_ms  INTEGER NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('action', 'routine')),
    body   TEXT NOT NULL,
    PRIMARY KEY (doc_id, key, at_ms)
) STRICT;

-- Projection of the derived state per local date: the tracker and the charts read it.
CREATE TABLE day_totals (
    date     TEXT PRIMARY KEY NOT NULL,
    actions  INTEGER NOT NULL,
    routines INTEGER NOT NULL,
    exp      INTEGER NOT NULL
) STRICT;
