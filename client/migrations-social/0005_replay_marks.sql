-- Where each room's live stream resumes: the highest seq the chat connection received in order,
-- each one following the last, from where the room was first subscribed. A subscribe asks for
-- what comes after it. History pages fetched over HTTP (cached out of order, above or below it)
-- never move it, so a replay cut short resumes where it stopped instead of after the newest page.
CREATE TABLE replay_marks (
    meetup_id INTEGER NOT NULL PRIMARY KEY,
    seq       INTEGER NOT NULL
);
-- Caches from before the mark resumed after their highest seq, so a cut replay may have left a
-- hole: each room resumes after the end of its first unbroken run of messages instead, and what
-- is cached above it comes again once (kept once each).
INSERT INTO replay_marks (meetup_id, seq)
SELECT m.meetup_id, MIN(m.seq) FROM messages m
WHERE NOT EXISTS (SELECT 1 FROM messages n WHERE n.meetup_id = m.meetup_id AND n.seq = m.seq + 1)
GROUP BY m.meetup_id;
