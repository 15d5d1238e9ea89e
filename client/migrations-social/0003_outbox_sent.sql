-- When an HTTP write first left for the server (NULL: never, or only attempts that could not
-- connect). The server keeps the answer to its Idempotency-Key for a day from about then; a write
-- that creates something is not sent again once that may have passed.
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
