-- What the drafts of one import share (organisation, inviter, expiry, the link without
-- its token, the template version), stored once here instead of in each of its drafts,
-- which keep only the invitee's names and token. At a million invitations that is a
-- quarter of a gigabyte less to write. Drafts queued before keep their whole form. Keep
-- in step with the other backend's 0014.
CREATE TABLE draft_bases (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    shared     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
