-- SQLite already compares text by its bytes (BINARY); this version only keeps the two
-- backends' migrations in step with ../postgres/0004, which makes PostgreSQL do the same.
SELECT 1;
