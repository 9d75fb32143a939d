-- Where the audit chain began (docs/audit.md): rows before it were written by an usher
-- from before the chain; every row from it on must carry a hash, so a row whose hash was
-- cleared is a fault, not "from before the chain". Keep in step with the other backend.
CREATE TABLE audit_chain (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    started_at   BIGINT NOT NULL
);
INSERT INTO audit_chain (id, started_at)
SELECT 1, COALESCE(
    (SELECT MIN(id) FROM audit_log WHERE hash IS NOT NULL),
    (SELECT MAX(id) + 1 FROM audit_log),
    1);
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'audit_chain is written once'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'audit_chain is written once'); END;
