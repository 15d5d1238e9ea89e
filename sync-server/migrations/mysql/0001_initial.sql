-- Accounts and document sync storage (issue 3, first slice).
-- Times are Unix milliseconds (UTC) so both backends store them the same way.
-- Text compares byte for byte (utf8mb4_bin), as SQLite does, so uniqueness means the same on both.

CREATE TABLE users (
    id            CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    email         VARCHAR(254) NOT NULL,
    nickname      VARCHAR(64)  NOT NULL,
    password_hash VARCHAR(255) NULL,
    created_at    BIGINT       NOT NULL,
    deleted_at    BIGINT       NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_nickname_key UNIQUE (nickname)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE documents (
    doc_id        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    owner_user_id CHAR(36)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at    BIGINT      NOT NULL,
    KEY documents_owner (owner_user_id),
    CONSTRAINT documents_owner_fk FOREIGN KEY (owner_user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE chunks (
    doc_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind   TINYINT     NOT NULL,
    hash   BINARY(32)  NOT NULL,
    bytes  LONGBLOB    NOT NULL,
    PRIMARY KEY (doc_id, kind, hash),
    CONSTRAINT chunks_doc_fk FOREIGN KEY (doc_id) REFERENCES documents (doc_id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
