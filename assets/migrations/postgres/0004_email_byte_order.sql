-- Addresses sort by their bytes, as on SQLite, whatever the database's locale: keyset
-- pages, prefix ranges and searches that sort their matches themselves then agree.
-- Keep in step with ../sqlite/0004.
ALTER TABLE users ALTER COLUMN email TYPE TEXT COLLATE "C";
