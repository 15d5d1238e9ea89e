-- Chunks stored in their document's order instead of their arrival order. The rowid table kept
-- every document's chunks interleaved with everyone else's, so a compaction deleting a document's
-- 256 incremental chunks dirtied ~256 table pages (each also holding other documents' rows) plus
-- the primary key's separate index, and every stored chunk dirtied two pages (the table's last
-- page and the index's). Clustered on the primary key, a document's chunks sit together in one
-- B-tree: a compaction dirties the few pages they fill, a stored chunk one page. MySQL's InnoDB
-- tables are already clustered on their primary key.
CREATE TABLE chunks_clustered (
    doc_id TEXT    NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    kind   INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    bytes  BLOB    NOT NULL,
    PRIMARY KEY (doc_id, kind, hash)
) WITHOUT ROWID;
INSERT INTO chunks_clustered (doc_id, kind, hash, bytes) SELECT doc_id, kind, hash, bytes FROM chunks;
DROP TABLE chunks;
ALTER TABLE chunks_clustered RENAME TO chunks;
