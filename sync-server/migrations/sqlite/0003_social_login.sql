-- Social login (issue 3): identities link a provider's subject to an account, never an email.
-- oauth_states hold a started login until the provider calls back (single use, minutes); auth_codes
-- hold the one-time code handed to the app (single use, 60 s, stored as a SHA-256, bound to the
-- app's PKCE challenge). Times are Unix milliseconds (UTC).

CREATE TABLE identities (
    provider   TEXT    NOT NULL,                        -- google, kakao, naver
    subject    TEXT    NOT NULL,                        -- the provider's stable user id
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE oauth_states (
    state_hash         BLOB    NOT NULL PRIMARY KEY,
    provider           TEXT    NOT NULL,
    pkce_verifier      TEXT    NOT NULL,                -- the server's own verifier for the provider
    nonce              TEXT    NOT NULL,
    app_redirect_uri   TEXT    NOT NULL,
    app_code_challenge TEXT    NOT NULL,                -- S256 of the app's verifier
    expires_at         INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE auth_codes (
    code_hash      BLOB    NOT NULL PRIMARY KEY,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_challenge TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX auth_codes_user ON auth_codes (user_id);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);

-- The purge job looks for accounts deleted long enough ago.
CREATE INDEX users_deleted_at ON users (deleted_at);
