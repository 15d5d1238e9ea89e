-- Which meetups show an image (the purge of unused images, an image's deletion setting
-- meetups.image_id to NULL) was a scan of every meetup: SQLite does not index a foreign key's
-- column by itself.
CREATE INDEX meetups_image ON meetups (image_id);
