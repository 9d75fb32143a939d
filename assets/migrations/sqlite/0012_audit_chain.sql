-- The audit log as a hash chain (issue 8): each row carries the SHA-256 of its own fields
-- and the hash of the row before it, so a changed or removed row breaks the chain that
-- `usher audit verify` walks. Rows written before this migration have no hash; the chain
-- starts at the first row that has one. Keep in step with the other backend's 0012.
ALTER TABLE audit_log ADD COLUMN hash TEXT;
