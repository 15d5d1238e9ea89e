-- Which meetups show an image (the purge of unused images, an image's deletion setting
-- meetups.image_id to NULL). InnoDB had made an index for the foreign key (meetups_image_fk) by
-- itself; this names it as SQLite's, and InnoDB drops its own once another can serve the key.
CREATE INDEX meetups_image ON meetups (image_id);
