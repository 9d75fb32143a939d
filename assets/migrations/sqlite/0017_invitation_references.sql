-- A pending invitation keeps the file's unique reference (an AD SID, an objectGUID), so
-- that a second export finds the person by it: a changed address replaces the invitation,
-- changed names update it, and a leaver's invitation is listed with the missing users.
-- The reference goes to the user who enrols through it. An import records what it does
-- to pending invitations for undo: 'invitation' (names, type or reference changed) and
-- 'revoke' (revoked by the import). SQLite cannot change a CHECK in place: the table is
-- rebuilt with the same rows. Keep in step with the other backend's 0017.
ALTER TABLE invitations ADD COLUMN unique_ref TEXT;

CREATE TABLE import_changes_new (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES import_batches(id),
    kind          TEXT    NOT NULL CHECK (kind IN ('invite', 'create', 'update', 'suspend',
                      'remove', 'grant', 'regrant', 'mailbox', 'invitation', 'revoke')),
    user_id       INTEGER,
    invitation_id INTEGER,
    before        TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO import_changes_new (id, batch_id, kind, user_id, invitation_id, before)
    SELECT id, batch_id, kind, user_id, invitation_id, before FROM import_changes;
DROP TABLE import_changes;
ALTER TABLE import_changes_new RENAME TO import_changes;
CREATE INDEX import_changes_batch ON import_changes (batch_id);
