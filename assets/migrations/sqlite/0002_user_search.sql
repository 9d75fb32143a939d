-- Substring search over users' addresses and names at a million rows: an FTS5 index of
-- trigrams, kept in step with `users` by triggers. Keep in step with ../postgres/0002.
CREATE VIRTUAL TABLE users_fts USING fts5(
    email, display_name,
    content = 'users', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO users_fts (rowid, email, display_name) SELECT id, email, display_name FROM users;

CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, email, display_name) VALUES (new.id, new.email, new.display_name);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, email, display_name)
        VALUES ('delete', old.id, old.email, old.display_name);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF email, display_name ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, email, display_name)
        VALUES ('delete', old.id, old.email, old.display_name);
    INSERT INTO users_fts (rowid, email, display_name) VALUES (new.id, new.email, new.display_name);
END;
