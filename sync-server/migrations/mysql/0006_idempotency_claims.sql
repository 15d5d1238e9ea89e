-- The in-progress marker of an idempotent write moves from one process's memory to the database,
-- so every server instance on it sees it. A row whose status is 0 is a claim: the request holding
-- the key runs, and `claim` (a UUID) says which request holds it; `created_at` is when it was
-- claimed. Keeping its response sets the status and body and clears `claim`; a server error
-- deletes the row; a claim older than the HTTP layer's timeout is taken over by a retry.
ALTER TABLE idempotency_keys ADD COLUMN claim CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL;
