-- Roles and grants at account and mailbox scope, and mailboxes (seed 001). The
-- permissions themselves are a catalog in code (src/domain/permission.rs); the system
-- roles are rows here so that grants can name them, and are created for every account
-- when the store opens. Keep in step with ../postgres/0007_roles.sql.
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT    NOT NULL,
    -- The name folded to lower case: "Auditors" and "auditors" are one role.
    name_key    TEXT    NOT NULL,
    scope       TEXT    NOT NULL CHECK (scope IN ('account', 'mailbox')),
    description TEXT    NOT NULL DEFAULT '',
    system      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (account_id, name_key)
);

-- A custom role's permissions (a system role's come from the catalog).
CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT    NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    address       TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    kind          TEXT    NOT NULL CHECK (kind IN ('shared', 'personal')),
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (account_id, address)
);

-- A role or a single permission, held by a user or promised to a pending invitation
-- (granted when it is accepted), for the account or for one mailbox.
CREATE TABLE grants (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    invitation_id INTEGER REFERENCES invitations(id) ON DELETE CASCADE,
    mailbox_id    INTEGER REFERENCES mailboxes(id) ON DELETE CASCADE,
    role_id       INTEGER REFERENCES roles(id),
    permission    TEXT,
    granted_by    TEXT    NOT NULL,
    granted_at    INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (invitation_id IS NULL)),
    CHECK ((role_id IS NULL) <> (permission IS NULL))
);
CREATE UNIQUE INDEX grants_once ON grants (
    COALESCE(user_id, 0), COALESCE(invitation_id, 0), COALESCE(mailbox_id, 0),
    COALESCE(role_id, 0), COALESCE(permission, ''));
CREATE INDEX grants_user ON grants (user_id);
CREATE INDEX grants_invitation ON grants (invitation_id);
CREATE INDEX grants_role ON grants (role_id);
