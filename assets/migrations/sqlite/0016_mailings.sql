-- An import's invitation mail is drafted into the outbox by the sender as it sends, a
-- batch at a time, instead of by the import. The import writes its invitations with the
-- link's token (draft_token, cleared once drafted) and one mailing: its draft base, now
-- naming the batch and the invitations left to draft (next_invitation to
-- last_invitation; NULL once done). Revoking or resending an invitation clears its
-- token, so that it is never drafted. Keep in step with the other backend's 0016.
ALTER TABLE invitations ADD COLUMN draft_token TEXT;
ALTER TABLE draft_bases ADD COLUMN import_batch_id INTEGER;
ALTER TABLE draft_bases ADD COLUMN next_invitation INTEGER;
ALTER TABLE draft_bases ADD COLUMN last_invitation INTEGER;

-- An invitation has no mail until it is drafted: those are not indexed.
DROP INDEX invitations_outbox;
CREATE INDEX invitations_outbox ON invitations (outbox_id) WHERE outbox_id IS NOT NULL;

-- PostgreSQL folds its seats index into the pending one (INCLUDE). SQLite has no
-- INCLUDE, and its seat counts read the seats index alone, so it stays here.

-- Undo reads an import's changes a page at a time, last first: SQLite's index by batch
-- already holds them in id order (the rowid), so it stays.

-- The search index follows a user's address and name only when one of them changes: an
-- import's bulk writes set every field, and suspending a million users rewrote a million
-- index entries that had not changed.
DROP TRIGGER users_fts_update;
CREATE TRIGGER users_fts_update AFTER UPDATE OF email, display_name ON users
WHEN old.email IS NOT new.email OR old.display_name IS NOT new.display_name BEGIN
    INSERT INTO users_fts (users_fts, rowid, email, display_name)
        VALUES ('delete', old.id, old.email, old.display_name);
    INSERT INTO users_fts (rowid, email, display_name) VALUES (new.id, new.email, new.display_name);
END;
