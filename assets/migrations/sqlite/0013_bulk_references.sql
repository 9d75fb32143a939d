-- PostgreSQL's 0013 drops the foreign keys of invitations.outbox_id and
-- invitations.import_batch_id, whose per-row checks lock and write each parent row there.
-- SQLite's check is an index lookup without a lock, and dropping them would mean
-- rebuilding the table (whose removal would cascade to grants), so they stay here. This
-- migration only keeps the two backends' versions in step.
SELECT 1;
