-- Substring search over users' addresses and names at a million rows: one trigram GIN
-- index (pg_trgm, a trusted extension that a database owner may create) over the text
-- that searches look in, so a search is one index scan. Keep in step with ../sqlite/0002.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX users_search_trgm ON users
    USING gin ((email || ' ' || lower(display_name)) public.gin_trgm_ops);
