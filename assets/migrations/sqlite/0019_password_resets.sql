-- Passwords users manage themselves (issue 23): a reset link, asked for on the "forgot
-- password" page or sent by an operator, with the invitation's token rules (only the
-- hash stored, single use, expiry). A used link, and a password changed any other way,
-- close every open link of the user. The mail templates gain the reset link's.
-- Keep in step with ../postgres/0019_password_resets.sql.
CREATE TABLE password_resets (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,
    -- 'self', or the operator who sent it.
    requested_by TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- SQLite cannot change a CHECK in place: the table is copied into one with the new rule.
CREATE TABLE mail_templates_0019 (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name       TEXT    NOT NULL
        CHECK (name IN ('invitation', 'reminder', 'accepted', 'declined', 'registration',
                        'password_reset')),
    builtin    INTEGER NOT NULL DEFAULT 0,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    html       TEXT,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO mail_templates_0019 SELECT * FROM mail_templates;
DROP TABLE mail_templates;
ALTER TABLE mail_templates_0019 RENAME TO mail_templates;
CREATE INDEX mail_templates_current ON mail_templates (account_id, name, id);
