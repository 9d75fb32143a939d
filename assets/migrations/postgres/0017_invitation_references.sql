-- A pending invitation keeps the file's unique reference (an AD SID, an objectGUID), so
-- that a second export finds the person by it: a changed address replaces the invitation,
-- changed names update it, and a leaver's invitation is listed with the missing users.
-- The reference goes to the user who enrols through it. An import records what it does
-- to pending invitations for undo: 'invitation' (names, type or reference changed) and
-- 'revoke' (revoked by the import). Keep in step with the other backend's 0017.
ALTER TABLE invitations ADD COLUMN unique_ref TEXT;

ALTER TABLE import_changes DROP CONSTRAINT import_changes_kind_check;
ALTER TABLE import_changes ADD CONSTRAINT import_changes_kind_check CHECK (kind IN
    ('invite', 'create', 'update', 'suspend', 'remove', 'grant', 'regrant', 'mailbox',
     'invitation', 'revoke'));
