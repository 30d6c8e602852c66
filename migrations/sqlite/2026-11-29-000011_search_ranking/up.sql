-- PostgreSQL's search ranking moves to a small heading vector (see its
-- migration of the same name). FTS5's bm25 reads no body to rank, so SQLite
-- has nothing to change; this keeps both backends' migration lists equal.
SELECT 1;
