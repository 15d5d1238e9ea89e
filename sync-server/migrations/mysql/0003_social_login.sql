-- Social login (issue 3): identities link a provider's subject to an account, never an email.
-- oauth_states hold a started login until the provider calls back (single use, minutes); auth_codes
-- hold the one-time code handed to the app (single use, 60 s, stored as a SHA-256, bound to the
-- app's PKCE challenge). Times are Unix milliseconds (UTC).

CREATE TABLE identities (
    provider   VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject    VARCHAR(255) NOT NULL,
    user_id    CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at BIGINT       NOT NULL,
    PRIMARY KEY (provider, subject),
    KEY identities_user (user_id),
    CONSTRAINT identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE oauth_states (
    state_hash         BINARY(32)    NOT NULL PRIMARY KEY,
    provider           VARCHAR(16)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    pkce_verifier      VARCHAR(128)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    nonce              VARCHAR(128)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    app_redirect_uri   VARCHAR(2048) NOT NULL,
    app_code_challenge VARCHAR(128)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at         BIGINT        NOT NULL,
    KEY oauth_states_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE auth_codes (
    code_hash      BINARY(32)   NOT NULL PRIMARY KEY,
    user_id        CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_challenge VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at     BIGINT       NOT NULL,
    KEY auth_codes_user (user_id),
    KEY auth_codes_expiry (expires_at),
    CONSTRAINT auth_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The purge job looks for accounts deleted long enough ago.
CREATE INDEX users_deleted_at ON users (deleted_at);
