-- Refresh tokens (issue 3, accounts slice). A token is stored only as the SHA-256 of its bytes.
-- Tokens of one login share a family: rotation adds a row to the family and marks the old one used;
-- reusing a used token or logging out revokes the whole family. Times are Unix milliseconds (UTC).

CREATE TABLE refresh_tokens (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT    NOT NULL,                        -- UUID, hyphenated
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
