-- The social cache and outbox (issue 4), in their own file beside the documents' database: what
-- the server said about meetups, comments and chat, readable offline, and the writes made on this
-- device that the server has not confirmed yet. Times are Unix milliseconds (UTC).

-- A meetup as the server last described it (its JSON, with the viewer's liked_by_me).
CREATE TABLE meetups (
    id         INTEGER NOT NULL PRIMARY KEY,
    body       TEXT    NOT NULL,
    region     TEXT    NOT NULL DEFAULT '',
    like_count INTEGER NOT NULL DEFAULT 0,
    fetched_at INTEGER NOT NULL
);

CREATE TABLE comments (
    id         INTEGER NOT NULL PRIMARY KEY,
    meetup_id  INTEGER NOT NULL,
    body       TEXT    NOT NULL
);
CREATE INDEX comments_meetup ON comments (meetup_id, id);

-- Chat messages seen, once each: by id, and by their place in the room.
CREATE TABLE messages (
    meetup_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    id        INTEGER NOT NULL UNIQUE,
    client_id TEXT,
    body      TEXT    NOT NULL,
    PRIMARY KEY (meetup_id, seq)
);

-- The room's notice as last pushed (NULL body: none).
CREATE TABLE notices (
    meetup_id INTEGER NOT NULL PRIMARY KEY,
    body      TEXT
);

-- Writes waiting for the server, sent in `seq` order. `key` is the Idempotency-Key of an HTTP
-- write, or the client_id of a chat message: a retry after a cut connection is recognised by the
-- server and applied once. A write the server refused stays with its reason until dismissed.
CREATE TABLE outbox (
    seq             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    method          TEXT    NOT NULL DEFAULT '',
    path            TEXT    NOT NULL DEFAULT '',
    body            TEXT,
    meetup_id       INTEGER,
    text            TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    refused_code    TEXT,
    refused_message TEXT,
    created_at      INTEGER NOT NULL
);
