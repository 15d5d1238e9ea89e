-- Refresh tokens (issue 3, accounts slice). A token is stored only as the SHA-256 of its bytes.
-- Tokens of one login share a family: rotation adds a row to the family and marks the old one used;
-- reusing a used token or logging out revokes the whole family. Times are Unix milliseconds (UTC).

CREATE TABLE refresh_tokens (
    token_hash BINARY(32) NOT NULL PRIMARY KEY,
    user_id    CHAR(36)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    family_id  CHAR(36)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at BIGINT     NOT NULL,
    used_at    BIGINT     NULL,
    revoked_at BIGINT     NULL,
    created_at BIGINT     NOT NULL,
    KEY refresh_tokens_family (family_id),
    KEY refresh_tokens_user (user_id),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
