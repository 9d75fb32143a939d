-- An import's invitations name their batch, instead of one import_changes row and one
-- audit row each: at a million invitations those two rows were half of the apply's writes.
-- The batch's own audit entry (import.apply) carries its counts, file and SHA-256; undo
-- revokes by batch in one statement. Rows written before this move across. No index: only
-- undo looks invitations up by batch, and a scan is fine for that. Keep in step with the
-- other backend's 0006.
ALTER TABLE invitations ADD COLUMN import_batch_id INTEGER REFERENCES import_batches(id);
UPDATE invitations SET import_batch_id = (
    SELECT c.batch_id FROM import_changes c
    WHERE c.kind = 'invite' AND c.invitation_id = invitations.id
) WHERE id IN (SELECT invitation_id FROM import_changes WHERE kind = 'invite');
DELETE FROM import_changes WHERE kind = 'invite';
