-- When a comment was last cached, so that pruning by a list fetched earlier spares a comment
-- cached meanwhile (confirmed by the outbox while the list was on its way).
ALTER TABLE comments ADD COLUMN fetched_at INTEGER NOT NULL DEFAULT 0;
