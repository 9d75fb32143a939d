-- Each applied import, and every change it made, so that it can be undone; and the
-- password of a user created with one (seed 003), as an argon2id PHC string.
-- Keep in step with ../postgres/0003.
CREATE TABLE import_batches (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    file_sha256 TEXT    NOT NULL,
    counts      TEXT    NOT NULL,
    undone_at   INTEGER
);

-- `before` holds what the change replaced (JSON). No foreign key on user_id: a removed
-- user's row is gone, and its change is what brings it back.
CREATE TABLE import_changes (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES import_batches(id),
    kind          TEXT    NOT NULL CHECK (kind IN ('invite', 'create', 'update', 'suspend', 'remove')),
    user_id       INTEGER,
    invitation_id INTEGER,
    before        TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX import_changes_batch ON import_changes (batch_id);

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
