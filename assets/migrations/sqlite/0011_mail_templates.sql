-- Mail templates per account (issue 7). Rows are never changed: each save adds a version,
-- and the newest per (account, name) is in force; `builtin` marks a reset to usher's own
-- text. A draft queued by an import names the version it was queued with, so a retry
-- renders the same message even after an edit. Keep in step with the other backend's 0011.
CREATE TABLE mail_templates (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name       TEXT    NOT NULL
        CHECK (name IN ('invitation', 'reminder', 'accepted', 'declined', 'registration')),
    builtin    INTEGER NOT NULL DEFAULT 0,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    html       TEXT,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_templates_current ON mail_templates (account_id, name, id);

-- The invite feature switched off for one operator (seed 002), with the reason shown.
CREATE TABLE invite_blocks (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    operator   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, operator)
);
