-- Nothing to do: InnoDB already stores a table in its primary key's order, so a document's chunks
-- sit together (SQLite's file of the same number makes its chunks table so).
DO 0;
