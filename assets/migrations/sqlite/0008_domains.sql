-- Domain verification (seed 001): by a DNS TXT record that usher names, or by hand with a
-- recorded reason (air-gapped sites often lack public DNS). `verified_how` is 'init',
-- 'dns' or 'manual'. Corporate users' profile fields (timezone, phone) live beside the
-- user, not in the users table that lists and searches read. Keep in step with the other
-- backend's 0008.
ALTER TABLE domains ADD COLUMN verify_token TEXT;
ALTER TABLE domains ADD COLUMN verified_how TEXT;
ALTER TABLE domains ADD COLUMN verified_reason TEXT;
ALTER TABLE domains ADD COLUMN verified_by TEXT;
ALTER TABLE domains ADD COLUMN verified_at INTEGER;
UPDATE domains SET verified_how = 'init', verified_reason = 'declared at init' WHERE verified;

CREATE TABLE user_profiles (
    user_id  INTEGER NOT NULL PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    timezone TEXT   NOT NULL DEFAULT '',
    phone    TEXT   NOT NULL DEFAULT ''
);
