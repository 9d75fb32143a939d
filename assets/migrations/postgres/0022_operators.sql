-- Operators who are who they say (docs/operators.md): an authenticated identity, a host
-- login (os:LOGIN) or a PostgreSQL login role (db:ROLE), linked to the account user it
-- acts as. Only the database's owner and Administrators change it. Keep in step with the
-- other backend.
CREATE TABLE operators (
    id          BIGSERIAL PRIMARY KEY,
    identity    TEXT    NOT NULL UNIQUE,
    account_id  BIGINT  NOT NULL REFERENCES accounts(id),
    user_id     BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL
);
CREATE INDEX operators_user ON operators (user_id);
