-- usher foundation schema (SQLite). Times are Unix milliseconds, UTC.
-- Keep in step with ../postgres/0001_foundation.sql: same tables, same version.

CREATE TABLE accounts (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE,
    licences             INTEGER NOT NULL CHECK (licences >= 0),
    invite_validity_days INTEGER NOT NULL DEFAULT 10 CHECK (invite_validity_days BETWEEN 1 AND 365),
    invitations_enabled  INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL
);

CREATE TABLE domains (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT    NOT NULL UNIQUE,
    verified    INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    email         TEXT    NOT NULL,
    email_display TEXT    NOT NULL,
    first_name    TEXT    NOT NULL DEFAULT '',
    last_name     TEXT    NOT NULL DEFAULT '',
    display_name  TEXT    NOT NULL DEFAULT '',
    unique_ref    TEXT,
    user_type     TEXT    NOT NULL CHECK (user_type IN ('professional', 'guest')),
    status        TEXT    NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account_id, email),
    UNIQUE (account_id, unique_ref)
);
CREATE INDEX users_seats ON users (account_id, user_type, status);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    kind            TEXT    NOT NULL,
    message_id      TEXT    NOT NULL UNIQUE,
    env_from        TEXT    NOT NULL,
    env_to          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    raw             BLOB    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    lease_owner     TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    email         TEXT    NOT NULL,
    email_display TEXT    NOT NULL,
    first_name    TEXT    NOT NULL DEFAULT '',
    last_name     TEXT    NOT NULL DEFAULT '',
    user_type     TEXT    NOT NULL CHECK (user_type IN ('professional', 'guest')),
    inviter       TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    expires_at    INTEGER NOT NULL,
    accepted_at   INTEGER,
    declined_at   INTEGER,
    revoked_at    INTEGER,
    resend_count  INTEGER NOT NULL DEFAULT 0,
    outbox_id     INTEGER REFERENCES outbox(id)
);
-- One open invitation per address and account: the database enforces what the service checks.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (account_id, email) WHERE status = 'pending';
CREATE INDEX invitations_seats ON invitations (account_id, status, user_type, expires_at);
CREATE INDEX invitations_outbox ON invitations (outbox_id);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    details TEXT    NOT NULL DEFAULT '{}'
);

-- Append-only: history that can be rewritten is not an audit log.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
