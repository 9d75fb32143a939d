-- An import also records the grants, personal mailboxes and removed users' grants of a
-- roles workbook, for undo. Keep in step with the other backend's 0009.
ALTER TABLE import_changes DROP CONSTRAINT import_changes_kind_check;
ALTER TABLE import_changes ADD CONSTRAINT import_changes_kind_check CHECK (kind IN
    ('invite', 'create', 'update', 'suspend', 'remove', 'grant', 'regrant', 'mailbox'));
