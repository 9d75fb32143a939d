-- Directory sync (issue 24, docs/sync.md): each run of a source, what the source
-- suspended (so that it alone brings them back), and the grants it gave (so that it
-- takes back only those). Keep in step with ../postgres/0020_directory_sync.sql.
CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    source       TEXT   NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    actor        TEXT   NOT NULL,
    -- 'full' reads every entry; 'changes' only those changed since the cursor.
    scope        TEXT   NOT NULL CHECK (scope IN ('full', 'changes')),
    outcome      TEXT   NOT NULL
                 CHECK (outcome IN ('previewed', 'applied', 'unchanged', 'held', 'failed')),
    entries      INTEGER NOT NULL DEFAULT 0,
    counts       TEXT   NOT NULL DEFAULT '{}',
    -- What one run would lose, by kind, and the limit it went over (held runs).
    losses       TEXT   NOT NULL DEFAULT '{}',
    held_reason  TEXT,
    digest       TEXT,
    batch_id     INTEGER REFERENCES import_batches(id),
    -- The held run this one applied on an operator's approval.
    approves     INTEGER REFERENCES sync_runs(id),
    -- The highest change marker read (AD's uSNChanged, OpenLDAP's modifyTimestamp).
    cursor       TEXT,
    error        TEXT
);
CREATE INDEX sync_runs_source ON sync_runs (account_id, source, id);

CREATE TABLE sync_holds (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    source     TEXT   NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    batch_id   INTEGER NOT NULL REFERENCES import_batches(id),
    at         INTEGER NOT NULL,
    PRIMARY KEY (account_id, source, user_id)
);
CREATE INDEX sync_holds_user ON sync_holds (user_id);

-- A role a source gave because of a group (mailbox_id 0: at account scope). Kept
-- after the grant goes (revoked by hand, or an undo): only a grant still held counts.
CREATE TABLE sync_grants (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    source     TEXT   NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    mailbox_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, source, user_id, role_id, mailbox_id)
);
CREATE INDEX sync_grants_user ON sync_grants (user_id);
