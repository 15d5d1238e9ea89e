-- Accounts and document sync storage (issue 3, first slice).
-- Times are Unix milliseconds (UTC) so both backends store them the same way.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,          -- UUID, hyphenated
    email         TEXT    NOT NULL,
    nickname      TEXT    NOT NULL,
    password_hash TEXT,                                  -- NULL for social-only accounts
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_nickname_key UNIQUE (nickname)
);

-- A document belongs to the user who first stored it; the primary key makes the claim race-free.
CREATE TABLE documents (
    doc_id        TEXT    NOT NULL PRIMARY KEY,
    owner_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL
);
CREATE INDEX documents_owner ON documents (owner_user_id);

-- Append-only, keyed by content: kind 0 = snapshot (hash of its heads), 1 = incremental (hash of
-- its bytes). Rows are inserted or deleted, never updated.
CREATE TABLE chunks (
    doc_id TEXT    NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    kind   INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    bytes  BLOB    NOT NULL,
    PRIMARY KEY (doc_id, kind, hash)
);
