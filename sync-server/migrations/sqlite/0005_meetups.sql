-- Meetups, their members, likes, comments, notice and chat; uploaded images; idempotent writes
-- (issue 4). Times are Unix milliseconds (UTC). Deleting a meetup removes everything that hangs
-- off it (ON DELETE CASCADE); purging an account removes the meetups it hosts the same way.

-- An uploaded image. The bytes live in the media folder under `id`; the row says who uploaded it.
CREATE TABLE media (
    id            TEXT    NOT NULL PRIMARY KEY,            -- UUID, hyphenated (unguessable)
    owner_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type  TEXT    NOT NULL,                        -- image/jpeg, image/png or image/webp
    byte_size     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX media_owner ON media (owner_user_id);

CREATE TABLE meetups (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- never reused: newest = highest
    host_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    contents     TEXT    NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    member_limit INTEGER,                                    -- NULL: no limit
    image_id     TEXT    REFERENCES media (id) ON DELETE SET NULL,
    place_name   TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    lat          REAL    NOT NULL,
    lng          REAL    NOT NULL,
    region       TEXT    NOT NULL,                           -- "시·도 시·군·구", derived from the address
    like_count   INTEGER NOT NULL DEFAULT 0,                 -- kept in the transaction that likes
    chat_seq     INTEGER NOT NULL DEFAULT 0,                 -- the last chat sequence number given
    notice_text  TEXT,                                       -- NULL: no notice
    notice_at    INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX meetups_host ON meetups (host_user_id);
CREATE INDEX meetups_likes ON meetups (like_count, id);
CREATE INDEX meetups_region ON meetups (region, id);
CREATE INDEX meetups_region_likes ON meetups (region, like_count, id);

CREATE TABLE meetup_members (
    meetup_id INTEGER NOT NULL REFERENCES meetups (id) ON DELETE CASCADE,
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (meetup_id, user_id)
);
CREATE INDEX meetup_members_user ON meetup_members (user_id);

CREATE TABLE meetup_likes (
    meetup_id  INTEGER NOT NULL REFERENCES meetups (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (meetup_id, user_id)
);
CREATE INDEX meetup_likes_user ON meetup_likes (user_id);

CREATE TABLE comments (
    id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    meetup_id      INTEGER NOT NULL REFERENCES meetups (id) ON DELETE CASCADE,
    author_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX comments_meetup ON comments (meetup_id, id);
CREATE INDEX comments_author ON comments (author_user_id, id);

-- kind 0 = text, 1 = join, 2 = leave. `seq` counts per meetup from 1 without gaps (meetups.chat_seq).
-- A text message's (sender, client_id) is unique: a resent message is stored once.
CREATE TABLE chat_messages (
    id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    meetup_id      INTEGER NOT NULL REFERENCES meetups (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    kind           INTEGER NOT NULL,
    sender_user_id TEXT    REFERENCES users (id) ON DELETE SET NULL,
    client_id      TEXT,                                     -- UUID, hyphenated; NULL for system messages
    text           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    CONSTRAINT chat_messages_seq UNIQUE (meetup_id, seq),
    CONSTRAINT chat_messages_client UNIQUE (sender_user_id, client_id)
);

-- A write made with an Idempotency-Key: the first response is kept and replayed to retries of the
-- same request; the same key with another request is a conflict. Kept for a day.
CREATE TABLE idempotency_keys (
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,                           -- SHA-256 of method, path and body
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
