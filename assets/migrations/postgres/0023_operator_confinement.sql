-- The database confines operators (docs/operators.md#what-the-storage-enforces). Each
-- operator connects as their own login role, a member of this database's group role
-- (usher_operators, shared by the usher databases of a cluster; each database's
-- own links and grants decide what a member may do in it), which holds the table privileges: every column but the secrets
-- (password hashes, token hashes, links waiting to be drafted, mail bodies). Row-level
-- security lets a write through only when the session's linked user holds the permission
-- it needs, asked of SECURITY DEFINER functions that read the links and the grants. The
-- owner (and a superuser) is not subject to row-level security and may do everything.
-- Keep in step with ../sqlite/0023_operator_confinement.sql (which has nothing to do:
-- SQLite has no users).

-- Listing invitations asks whether a link still waits to be drafted, without reading it.
ALTER TABLE invitations ADD COLUMN awaiting_draft BOOLEAN
    GENERATED ALWAYS AS (draft_token IS NOT NULL) STORED;

-- The user the session's role acts as, if it is linked and the user active.
CREATE FUNCTION usher_operator_user() RETURNS BIGINT
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT o.user_id FROM operators o JOIN users u ON u.id = o.user_id
    WHERE o.identity = 'db:' || session_user AND u.status = 'active'
$$;

CREATE FUNCTION usher_operator_account() RETURNS BIGINT
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT o.account_id FROM operators o JOIN users u ON u.id = o.user_id
    WHERE o.identity = 'db:' || session_user AND u.status = 'active'
$$;

-- Whether the session's linked user holds `perm` at account scope: granted alone, by a
-- custom role, or by a system role.
CREATE FUNCTION usher_may(perm TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (
        SELECT 1 FROM grants g LEFT JOIN roles r ON r.id = g.role_id
        WHERE g.user_id = usher_operator_user() AND g.mailbox_id IS NULL
          AND (g.permission = perm
               OR (NOT r.system AND EXISTS (SELECT 1 FROM role_permissions rp
                                            WHERE rp.role_id = r.id AND rp.permission = perm))
               OR (r.system AND EXISTS (SELECT 1 FROM system_role_permissions s
                                        WHERE s.role_name_key = r.name_key
                                          AND s.permission = perm))))
$$;

CREATE FUNCTION usher_is_administrator() RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (
        SELECT 1 FROM grants g JOIN roles r ON r.id = g.role_id
        WHERE g.user_id = usher_operator_user() AND g.mailbox_id IS NULL
          AND r.system AND r.name_key = 'administrator')
$$;

-- An operator may not take the account past its licences: active professional users are
-- counted after each statement that adds or changes users (not for the owner, who may
-- do anything, and whose imports of a million users should not pay for the count).
CREATE FUNCTION usher_check_licences() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    over TEXT;
BEGIN
    IF usher_operator_user() IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT a.name INTO over FROM accounts a
    WHERE a.id = usher_operator_account()
      AND (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id AND u.status = 'active'
             AND u.user_type = 'professional') > a.licences;
    IF over IS NOT NULL THEN
        RAISE EXCEPTION 'account % has no licence left for another active professional user', over
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_within_licences AFTER INSERT OR UPDATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION usher_check_licences();

-- Row-level security: reads within the operator's account, writes by permission.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'domains', 'users', 'user_profiles', 'invitations',
        'outbox', 'audit_log', 'import_batches', 'import_changes', 'roles', 'role_permissions',
        'mailboxes', 'grants', 'registrations', 'mail_templates', 'invite_blocks',
        'draft_bases', 'password_resets', 'sync_runs', 'sync_holds', 'sync_grants',
        'operators', 'audit_chain', 'system_role_permissions']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
END $$;

-- Reads see the operator's own account. Writes pass when the linked user holds one of
-- the permissions named (an UPDATE or DELETE that fails them touches no row).
CREATE FUNCTION usher_write_policies(t TEXT, allowed TEXT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE POLICY op_insert ON %I FOR INSERT WITH CHECK (%s)', t, allowed);
    EXECUTE format('CREATE POLICY op_update ON %I FOR UPDATE USING (%s)', t, allowed);
    EXECUTE format('CREATE POLICY op_delete ON %I FOR DELETE USING (%s)', t, allowed);
END $$;

CREATE POLICY op_read ON accounts FOR SELECT USING (id = usher_operator_account());
CREATE POLICY op_update ON accounts FOR UPDATE USING (usher_may('settings.manage'));

DO $$
DECLARE
    own CONSTANT TEXT := 'account_id = usher_operator_account()';
    linked CONSTANT TEXT := 'usher_operator_user() IS NOT NULL';
    r TEXT[];
BEGIN
    FOREACH r SLICE 1 IN ARRAY ARRAY[
        -- table, who reads, who writes
        ['domains', own, 'usher_may(''domains.manage'')'],
        ['users', own, 'usher_may(''users.manage'') OR usher_may(''users.import'') OR usher_may(''users.create'')'],
        ['user_profiles', linked, 'usher_may(''users.manage'') OR usher_may(''users.import'') OR usher_may(''users.create'')'],
        ['invitations', own, 'usher_may(''users.invite'') OR usher_may(''users.import'') OR usher_may(''users.manage'')'],
        ['import_batches', own, 'usher_may(''users.import'')'],
        ['import_changes', linked, 'usher_may(''users.import'')'],
        ['roles', own, 'usher_may(''roles.manage'')'],
        ['role_permissions', linked, 'usher_may(''roles.manage'')'],
        ['mailboxes', own, 'usher_may(''mailboxes.manage'') OR usher_may(''users.import'')'],
        ['grants', own, 'usher_may(''roles.manage'')'],
        ['mail_templates', own, 'usher_may(''settings.manage'')'],
        ['invite_blocks', own, 'usher_may(''settings.manage'')'],
        ['draft_bases', own, 'usher_may(''users.invite'') OR usher_may(''users.import'')'],
        ['sync_runs', own, 'usher_may(''users.import'')'],
        ['sync_holds', linked, 'usher_may(''users.import'')'],
        ['sync_grants', linked, 'usher_may(''users.import'')'],
        ['operators', own, 'usher_is_administrator()']]
    LOOP
        EXECUTE format('CREATE POLICY op_read ON %I FOR SELECT USING (%s)', r[1], r[2]);
        PERFORM usher_write_policies(r[1], r[3]);
    END LOOP;
END $$;
DROP FUNCTION usher_write_policies(TEXT, TEXT);

-- A user is added only by those who may create or import users.
DROP POLICY op_insert ON users;
CREATE POLICY op_insert ON users FOR INSERT
    WITH CHECK (usher_may('users.create') OR usher_may('users.import'));

-- Mail is queued by any operator's change and sent by `usher serve` (the owner); the
-- audit log only grows; a reset link is issued by those who manage users.
CREATE POLICY op_read ON outbox FOR SELECT USING (account_id = usher_operator_account());
CREATE POLICY op_insert ON outbox FOR INSERT WITH CHECK (
    account_id = usher_operator_account()
    AND (usher_may('users.invite') OR usher_may('users.import') OR usher_may('users.manage')
         OR usher_may('reports.view')));
CREATE POLICY op_read ON audit_log FOR SELECT USING (usher_operator_user() IS NOT NULL);
-- An operator's row names the operator's own role, as usher writes it ("ADDRESS
-- [db:ROLE] ..."): nobody writes history in another's name.
CREATE POLICY op_insert ON audit_log FOR INSERT WITH CHECK (
    usher_operator_user() IS NOT NULL
    AND position(' [db:' || session_user || ']' IN actor) > 0);
CREATE POLICY op_read ON audit_chain FOR SELECT USING (TRUE);
CREATE POLICY op_read ON system_role_permissions FOR SELECT USING (TRUE);
CREATE POLICY op_read ON password_resets FOR SELECT USING (account_id = usher_operator_account());
CREATE POLICY op_insert ON password_resets FOR INSERT WITH CHECK (usher_may('users.manage'));

-- The session is the owner's: the role that owns usher's tables, or a superuser.
CREATE FUNCTION usher_is_owner_session() RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT session_user::text = (SELECT pg_get_userbyid(relowner)::text FROM pg_class
                                 WHERE oid = 'accounts'::regclass)
        OR COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), FALSE)
$$;

-- `usher operators add`: the login role made (or an existing one, neither the owner nor a
-- superuser, made a member), put in the operators' group, given a password if one is
-- passed, and linked to the user. The owner or an Administrator only; runs with the
-- owner's right to make roles, so operators need none.
CREATE FUNCTION usher_add_operator(role_name TEXT, pass TEXT, acct BIGINT, usr BIGINT,
                                   by_whom TEXT, at_ms BIGINT) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    grp CONSTANT TEXT := 'usher_operators';
BEGIN
    IF NOT (usher_is_owner_session() OR usher_is_administrator()) THEN
        RAISE EXCEPTION 'only an Administrator may add operators' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF role_name !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'a role name is lower-case letters, digits and _' USING ERRCODE = 'invalid_name';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp) THEN
        RAISE EXCEPTION 'there is no operators'' group role %: run `usher db migrate` as a role that may create roles', grp
            USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name AND rolsuper)
           OR role_name = (SELECT pg_get_userbyid(relowner)::text FROM pg_class
                           WHERE oid = 'accounts'::regclass) THEN
            RAISE EXCEPTION 'role % is the owner or a superuser: it needs no link', role_name
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('GRANT %I TO %I', grp, role_name);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', role_name, grp);
    END IF;
    IF pass IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, pass);
    END IF;
    INSERT INTO operators (identity, account_id, user_id, created_at, created_by)
    VALUES ('db:' || role_name, acct, usr, at_ms, by_whom)
    ON CONFLICT (identity) DO UPDATE SET account_id = excluded.account_id,
        user_id = excluded.user_id, created_at = excluded.created_at,
        created_by = excluded.created_by;
END $$;

-- `usher operators remove` of a db: identity: the link goes, and the role with it when it
-- is one of the operators' group (never another role).
CREATE FUNCTION usher_remove_operator(ident TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    grp CONSTANT TEXT := 'usher_operators';
    role_name TEXT := substr(ident, 4);
BEGIN
    IF NOT (usher_is_owner_session() OR usher_is_administrator()) THEN
        RAISE EXCEPTION 'only an Administrator may remove operators' USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM operators WHERE identity = ident;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    IF ident LIKE 'db:%' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp)
       AND EXISTS (SELECT 1 FROM pg_auth_members m
                   WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = grp)
                     AND m.member = (SELECT oid FROM pg_roles WHERE rolname = role_name)) THEN
        EXECUTE format('DROP ROLE %I', role_name);
    END IF;
    RETURN TRUE;
END $$;

-- Migration 15's account checks lock the account row as a foreign key would; an
-- operator's role may not lock a row it may not update, so they run as the owner, as a
-- foreign key's own check does.
ALTER FUNCTION usher_accounts_named() SECURITY DEFINER;
ALTER FUNCTION usher_accounts_kept() SECURITY DEFINER;

-- The definer functions read this schema's tables and nothing a caller could put before
-- them: temporary tables come last, never first.
DO $$
DECLARE
    f TEXT;
BEGIN
    FOREACH f IN ARRAY ARRAY['usher_operator_user()', 'usher_operator_account()',
        'usher_may(TEXT)', 'usher_is_administrator()', 'usher_check_licences()',
        'usher_is_owner_session()', 'usher_add_operator(TEXT, TEXT, BIGINT, BIGINT, TEXT, BIGINT)',
        'usher_remove_operator(TEXT)']
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, current_schema());
    END LOOP;
END $$;

REVOKE EXECUTE ON FUNCTION usher_add_operator(TEXT, TEXT, BIGINT, BIGINT, TEXT, BIGINT),
    usher_remove_operator(TEXT) FROM PUBLIC;

-- The group role and its privileges: made when the migrating role may make roles
-- (CREATEROLE or a superuser); otherwise said, and `usher operators add` says how.
DO $$
DECLARE
    grp CONSTANT TEXT := 'usher_operators';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', grp);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database's migration made it first
        END;
    END IF;
    IF NOT has_database_privilege(grp, current_database(), 'CONNECT') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), grp);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), grp);
    EXECUTE format('GRANT SELECT ON accounts, domains, user_profiles, audit_log, audit_chain,
        import_batches, import_changes, roles, role_permissions, mailboxes, grants,
        mail_templates, invite_blocks, draft_bases, sync_runs, sync_holds, sync_grants,
        operators, system_role_permissions, _sqlx_migrations TO %I', grp);
    EXECUTE format('GRANT SELECT (id, account_id, email, email_display, first_name, last_name,
        display_name, unique_ref, user_type, status, created_at, updated_at,
        must_change_password) ON users TO %I', grp);
    EXECUTE format('GRANT SELECT (id, account_id, email, email_display, first_name, last_name,
        user_type, inviter, status, created_at, sent_at, expires_at, accepted_at, declined_at,
        revoked_at, resend_count, outbox_id, import_batch_id, reminded_at, unique_ref,
        awaiting_draft) ON invitations TO %I', grp);
    EXECUTE format('GRANT SELECT (id, account_id, kind, message_id, env_from, env_to, subject,
        state, attempts, next_attempt_at, lease_until, lease_owner, last_error, created_at,
        sent_at) ON outbox TO %I', grp);
    EXECUTE format('GRANT SELECT (id, account_id, user_id, requested_by, created_at, expires_at,
        used_at) ON password_resets TO %I', grp);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON accounts, domains, users, user_profiles,
        invitations, import_batches, import_changes, roles, role_permissions, mailboxes,
        grants, mail_templates, invite_blocks, draft_bases, sync_runs, sync_holds,
        sync_grants, operators TO %I', grp);
    EXECUTE format('GRANT INSERT ON outbox, audit_log, password_resets TO %I', grp);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), grp);
    EXECUTE format('GRANT EXECUTE ON FUNCTION usher_may(TEXT), usher_operator_user(),
        usher_operator_account(), usher_is_administrator(), usher_is_owner_session(),
        usher_add_operator(TEXT, TEXT, BIGINT, BIGINT, TEXT, BIGINT),
        usher_remove_operator(TEXT) TO %I', grp);
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'usher: the operators'' group role was not made (the migrating role may not create roles): %', SQLERRM;
END $$;
