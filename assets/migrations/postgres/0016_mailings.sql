-- An import's invitation mail is drafted into the outbox by the sender as it sends, a
-- batch at a time, instead of by the import. The import writes its invitations with the
-- link's token (draft_token, cleared once drafted) and one mailing: its draft base, now
-- naming the batch and the invitations left to draft (next_invitation to
-- last_invitation; NULL once done). A million-row import wrote a million outbox rows and
-- their three indexes in its own transaction: 8 of the server's 19 s. Revoking or
-- resending an invitation clears its token, so that it is never drafted.
-- Keep in step with the other backend's 0016.
ALTER TABLE invitations ADD COLUMN draft_token TEXT;
ALTER TABLE draft_bases ADD COLUMN import_batch_id BIGINT;
ALTER TABLE draft_bases ADD COLUMN next_invitation BIGINT;
ALTER TABLE draft_bases ADD COLUMN last_invitation BIGINT;

-- An invitation has no mail until it is drafted: those are not indexed.
DROP INDEX invitations_outbox;
CREATE INDEX invitations_outbox ON invitations (outbox_id) WHERE outbox_id IS NOT NULL;

-- The seat counts, the pending addresses and the expired ones read only pending
-- invitations: the pending index carries what they need, and the index of every
-- invitation by status (a million entries more to write in an import) goes.
CREATE UNIQUE INDEX invitations_pending ON invitations (account_id, email)
    INCLUDE (user_type, expires_at) WHERE status = 'pending';
DROP INDEX invitations_one_pending;
ALTER INDEX invitations_pending RENAME TO invitations_one_pending;
DROP INDEX invitations_seats;

-- Undo reads an import's changes a page at a time, last first: by batch, in id order.
CREATE INDEX import_changes_batch_id ON import_changes (batch_id, id);
DROP INDEX import_changes_batch;
