-- Substring search over users' addresses and names at a million rows: trigram GIN
-- indexes (pg_trgm, a trusted extension that a database owner may create).
-- Keep in step with ../sqlite/0002.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX users_email_trgm ON users USING gin (email public.gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(display_name) public.gin_trgm_ops);
