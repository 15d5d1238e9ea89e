-- When an HTTP write first left for the server (NULL: never, or only attempts that could not
-- connect). The server keeps the answer to its Idempotency-Key for a day from about then; a write
-- that creates something is not sent again once that may have passed.
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
-- Writes attempted before this column existed may have reached the server: counted from when
-- they were queued, the earliest they can have been sent.
UPDATE outbox SET sent_at = created_at WHERE attempts > 0 AND kind <> 'message';
