-- The outbox's and the invitations' references to their account, checked once per
-- statement instead of once per row. A foreign key runs a query and locks the account row
-- for every row written: for a million invitations and their million drafts that was a
-- quarter of the apply (7 s). These triggers keep the same guarantee. A statement's new
-- rows must name accounts that exist, which it locks as a foreign key would (FOR KEY
-- SHARE, until commit), so that none goes meanwhile; an account cannot be deleted or
-- renumbered while rows name it; a row's account cannot change (usher never changes it).
-- SQLite keeps its foreign keys (an index lookup each, no lock): see its 0015. Keep in
-- step with it.
CREATE FUNCTION usher_accounts_named() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
    named BIGINT;
BEGIN
    FOR named IN SELECT DISTINCT account_id FROM new_rows LOOP
        PERFORM 1 FROM accounts WHERE id = named FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING MESSAGE = format(
                'insert into %s: account %s does not exist', TG_TABLE_NAME, named);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION usher_account_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = format(
        'update of %s: a row''s account cannot change', TG_TABLE_NAME);
END $$;

-- A scan of the outbox: accounts are never deleted by usher, so no index is kept for it.
CREATE FUNCTION usher_accounts_kept() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM invitations WHERE account_id = OLD.id)
       OR EXISTS (SELECT 1 FROM outbox WHERE account_id = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'account %s is still named by invitations or mail', OLD.id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER outbox_account_named AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION usher_accounts_named();
CREATE TRIGGER invitations_account_named AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION usher_accounts_named();
CREATE TRIGGER outbox_account_fixed BEFORE UPDATE OF account_id ON outbox
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION usher_account_fixed();
CREATE TRIGGER invitations_account_fixed BEFORE UPDATE OF account_id ON invitations
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION usher_account_fixed();
CREATE TRIGGER accounts_kept BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION usher_accounts_kept();
CREATE TRIGGER accounts_kept_numbered BEFORE UPDATE OF id ON accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION usher_accounts_kept();

ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_account_id_fkey;
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_account_id_fkey;
