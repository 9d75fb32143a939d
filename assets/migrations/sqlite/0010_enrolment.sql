-- Enrolment through `usher serve` (issue 6): reminders before an invitation expires, and
-- self-registration by people on an account's verified, active domains, who prove their
-- address by a mailed link. Keep in step with the other backend's 0010.
ALTER TABLE invitations ADD COLUMN reminded_at INTEGER;
ALTER TABLE accounts ADD COLUMN self_registration INTEGER NOT NULL DEFAULT 0;

CREATE TABLE registrations (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    email         TEXT    NOT NULL,
    email_display TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX registrations_email ON registrations (account_id, email, created_at);
