-- PostgreSQL's 0015 checks the outbox's and the invitations' account references once per
-- statement (triggers) instead of once per row (foreign keys), whose per-row query and
-- row lock cost it a quarter of a million-row import. SQLite's check is an index lookup
-- without a lock, so its foreign keys stay. This migration only keeps the two backends'
-- versions in step.
SELECT 1;
