-- A like counts only while its account is live: an account's deletion takes its likes off the
-- counts and its restoring within the grace puts them back (PRODUCT.md §2: an account in its
-- deletion grace is hidden from others). Until now they stayed counted until the purge, so every
-- count is taken again once, from the likes of live accounts.
UPDATE meetups SET like_count = (
    SELECT COUNT(*) FROM meetup_likes l JOIN users u ON u.id = l.user_id
    WHERE l.meetup_id = meetups.id AND u.deleted_at IS NULL
);
