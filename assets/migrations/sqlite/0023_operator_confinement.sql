-- The database confines operators on PostgreSQL (../postgres/0023_operator_confinement.sql);
-- SQLite has no users, so only what both backends read is added here: whether an
-- invitation's link still waits to be drafted, without reading the link.
ALTER TABLE invitations ADD COLUMN awaiting_draft INTEGER
    GENERATED ALWAYS AS (draft_token IS NOT NULL) VIRTUAL;
