-- "My meetups" (PRODUCT.md §6): which cached meetups the user hosts, joined or liked, as the
-- server last listed them, so that the list (and the reminder before a joined meetup) reads
-- offline. Each role's rows are replaced whole by every fresh list.
CREATE TABLE mine (
    role      TEXT    NOT NULL,
    meetup_id INTEGER NOT NULL,
    PRIMARY KEY (role, meetup_id)
);
