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
CREATE FUNCTION usher_audit_chain_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_chain is written once';
END $$;
CREATE TRIGGER audit_chain_written_once BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION usher_audit_chain_written_once();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION usher_audit_chain_written_once();
