-- An import's invitations name their mail (outbox_id) and their batch (import_batch_id).
-- usher writes both from the ids that the same transaction's inserts returned, and it
-- never deletes an outbox row or a batch. PostgreSQL checks a foreign key per row by
-- locking the parent row: for outbox_id that is a write to each draft just queued. At a
-- million invitations the two checks took 8 s of a 37 s apply, so they go; the import
-- refuses a draft whose id did not come back, and the conformance tests check both
-- references after every import. The account references stay. SQLite keeps its checks
-- (an index lookup each, no lock): see its 0013. Keep in step with it.
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_outbox_id_fkey;
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_import_batch_id_fkey;
