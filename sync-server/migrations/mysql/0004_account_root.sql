-- Each account's root document id (issue 3, document sync): a random UUID chosen by the server the
-- first time the account syncs. The ids of the account's documents derive from it, so they cannot
-- be guessed by anyone who does not hold it, and a document belongs to whoever first stores it.

ALTER TABLE users
    ADD COLUMN account_root CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD CONSTRAINT users_account_root_key UNIQUE (account_root);
