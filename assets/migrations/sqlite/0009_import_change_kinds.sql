-- An import also records the grants, personal mailboxes and removed users' grants of a
-- roles workbook, for undo. SQLite cannot change a CHECK in place: the table is rebuilt
-- with the same rows. Keep in step with the other backend's 0009.
CREATE TABLE import_changes_new (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES import_batches(id),
    kind          TEXT    NOT NULL CHECK (kind IN ('invite', 'create', 'update', 'suspend',
                      'remove', 'grant', 'regrant', 'mailbox')),
    user_id       INTEGER,
    invitation_id INTEGER,
    before        TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO import_changes_new (id, batch_id, kind, user_id, invitation_id, before)
    SELECT id, batch_id, kind, user_id, invitation_id, before FROM import_changes;
DROP TABLE import_changes;
ALTER TABLE import_changes_new RENAME TO import_changes;
CREATE INDEX import_changes_batch ON import_changes (batch_id);
