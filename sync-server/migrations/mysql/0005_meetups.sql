-- Meetups, their members, likes, comments, notice and chat; uploaded images; idempotent writes
-- (issue 4). Times are Unix milliseconds (UTC). Deleting a meetup removes everything that hangs
-- off it (ON DELETE CASCADE); purging an account removes the meetups it hosts the same way.
-- Column sizes are generous: the server enforces the product's limits in characters.

CREATE TABLE media (
    id            CHAR(36)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    owner_user_id CHAR(36)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    content_type  VARCHAR(32) NOT NULL,
    byte_size     BIGINT      NOT NULL,
    created_at    BIGINT      NOT NULL,
    KEY media_owner (owner_user_id),
    CONSTRAINT media_owner_fk FOREIGN KEY (owner_user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE meetups (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    host_user_id CHAR(36)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    title        VARCHAR(120)  NOT NULL,
    contents     TEXT          NOT NULL,
    starts_at    BIGINT        NOT NULL,
    ends_at      BIGINT        NOT NULL,
    member_limit INT           NULL,
    image_id     CHAR(36)      CHARACTER SET ascii COLLATE ascii_bin NULL,
    place_name   VARCHAR(200)  NOT NULL,
    address      VARCHAR(300)  NOT NULL,
    lat          DOUBLE        NOT NULL,
    lng          DOUBLE        NOT NULL,
    region       VARCHAR(120)  NOT NULL,
    like_count   BIGINT        NOT NULL DEFAULT 0,
    chat_seq     BIGINT        NOT NULL DEFAULT 0,
    notice_text  VARCHAR(1000) NULL,
    notice_at    BIGINT        NULL,
    created_at   BIGINT        NOT NULL,
    updated_at   BIGINT        NOT NULL,
    KEY meetups_host (host_user_id),
    KEY meetups_likes (like_count, id),
    KEY meetups_region (region, id),
    KEY meetups_region_likes (region, like_count, id),
    CONSTRAINT meetups_host_fk FOREIGN KEY (host_user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT meetups_image_fk FOREIGN KEY (image_id) REFERENCES media (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE meetup_members (
    meetup_id BIGINT   NOT NULL,
    user_id   CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    joined_at BIGINT   NOT NULL,
    PRIMARY KEY (meetup_id, user_id),
    KEY meetup_members_user (user_id),
    CONSTRAINT meetup_members_meetup_fk FOREIGN KEY (meetup_id) REFERENCES meetups (id) ON DELETE CASCADE,
    CONSTRAINT meetup_members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE meetup_likes (
    meetup_id  BIGINT   NOT NULL,
    user_id    CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at BIGINT   NOT NULL,
    PRIMARY KEY (meetup_id, user_id),
    KEY meetup_likes_user (user_id),
    CONSTRAINT meetup_likes_meetup_fk FOREIGN KEY (meetup_id) REFERENCES meetups (id) ON DELETE CASCADE,
    CONSTRAINT meetup_likes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE comments (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    meetup_id      BIGINT       NOT NULL,
    author_user_id CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    text           VARCHAR(200) NOT NULL,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    KEY comments_meetup (meetup_id, id),
    KEY comments_author (author_user_id, id),
    CONSTRAINT comments_meetup_fk FOREIGN KEY (meetup_id) REFERENCES meetups (id) ON DELETE CASCADE,
    CONSTRAINT comments_author_fk FOREIGN KEY (author_user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- kind 0 = text, 1 = join, 2 = leave. `seq` counts per meetup from 1 without gaps (meetups.chat_seq).
CREATE TABLE chat_messages (
    id             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    meetup_id      BIGINT        NOT NULL,
    seq            BIGINT        NOT NULL,
    kind           TINYINT       NOT NULL,
    sender_user_id CHAR(36)      CHARACTER SET ascii COLLATE ascii_bin NULL,
    client_id      CHAR(36)      CHARACTER SET ascii COLLATE ascii_bin NULL,
    text           VARCHAR(1000) NOT NULL,
    created_at     BIGINT        NOT NULL,
    CONSTRAINT chat_messages_seq UNIQUE (meetup_id, seq),
    CONSTRAINT chat_messages_client UNIQUE (sender_user_id, client_id),
    CONSTRAINT chat_messages_meetup_fk FOREIGN KEY (meetup_id) REFERENCES meetups (id) ON DELETE CASCADE,
    CONSTRAINT chat_messages_sender_fk FOREIGN KEY (sender_user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE idempotency_keys (
    user_id      CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `key`        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash BINARY(32)   NOT NULL,
    status       SMALLINT     NOT NULL,
    body         LONGBLOB     NOT NULL,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, `key`),
    KEY idempotency_keys_created (created_at),
    CONSTRAINT idempotency_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
