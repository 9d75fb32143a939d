-- The mail server reads usher (issue 23). Dovecot, Postfix and Stalwart query these views,
-- never the tables: the views are a contract (docs/mailserver.md). A later migration may
-- change the tables under them but never a view's columns; a new shape is a new view
-- with the next version suffix, and the old one stays until a release drops it.
-- Keep in step with ../sqlite/0018_mail_server_views.sql.

-- A mail server looks a login up by its address alone, not by account. Addresses
-- compare by their bytes (users.email is COLLATE "C" since 0004): a mailbox's address
-- is indexed and given out the same way, or a view joining both could use neither index.
CREATE INDEX users_email ON users (email);
CREATE INDEX mailboxes_address ON mailboxes ((address COLLATE "C"));

-- The system roles' permissions, as the catalog in code gives them (a test checks that
-- the two agree), so that the send-as view can see who holds mailbox.send_as through a
-- system role such as Owner.
CREATE TABLE system_role_permissions (
    role_name_key TEXT NOT NULL,
    permission    TEXT NOT NULL,
    PRIMARY KEY (role_name_key, permission)
);
INSERT INTO system_role_permissions (role_name_key, permission) VALUES
    ('administrator', 'users.invite'),
    ('administrator', 'users.manage'),
    ('administrator', 'users.create'),
    ('administrator', 'users.import'),
    ('administrator', 'roles.manage'),
    ('administrator', 'domains.manage'),
    ('administrator', 'mailboxes.manage'),
    ('administrator', 'reports.view'),
    ('administrator', 'settings.manage'),
    ('administrator', 'messages.send'),
    ('administrator', 'messages.recall'),
    ('administrator', 'files.share'),
    ('administrator', 'signatures.request'),
    ('user manager', 'users.invite'),
    ('user manager', 'users.manage'),
    ('user manager', 'users.create'),
    ('user manager', 'users.import'),
    ('user manager', 'reports.view'),
    ('professional', 'users.invite'),
    ('professional', 'messages.send'),
    ('professional', 'messages.recall'),
    ('professional', 'files.share'),
    ('professional', 'signatures.request'),
    ('guest', 'messages.send'),
    ('guest', 'files.share'),
    ('owner', 'mailbox.read'),
    ('owner', 'mailbox.send'),
    ('owner', 'mailbox.send_as'),
    ('owner', 'mailbox.manage'),
    ('editor', 'mailbox.read'),
    ('editor', 'mailbox.send'),
    ('reader', 'mailbox.read');

-- Every user, whether they may log in to mail and why not. The password is given only to
-- those who may, with Dovecot's scheme prefix: Dovecot refuses a bare PHC string, and
-- Stalwart would compare a value without a prefix as plain text.
CREATE VIEW usher_mail_logins_v1 AS
SELECT user_id, login, domain, user_type, reason, reason = 'ok' AS may_login,
       CASE WHEN reason = 'ok' THEN '{ARGON2ID}' || password_hash END AS password
FROM (
    SELECT u.id AS user_id, u.email AS login, split_part(u.email, '@', 2) AS domain, u.user_type,
           u.password_hash,
           CASE WHEN u.status <> 'active' THEN 'suspended'
                WHEN d.id IS NULL THEN 'not on a mail domain'
                WHEN NOT d.active THEN 'domain inactive'
                WHEN u.password_hash IS NULL THEN 'no password yet'
                WHEN u.password_hash NOT LIKE '$argon2id$%' THEN 'password in an unknown form'
                WHEN u.must_change_password THEN 'must change password'
                ELSE 'ok' END AS reason
    FROM users u
    LEFT JOIN domains d ON d.account_id = u.account_id AND d.name = split_part(u.email, '@', 2)
) AS logins;

-- The domains the mail server accepts mail for: every account's active domains.
CREATE VIEW usher_mail_domains_v1 AS
SELECT d.name AS domain, a.name AS account
FROM domains d JOIN accounts a ON a.id = d.account_id
WHERE d.active;

-- The addresses that have a mailbox on the mail server: every user on an active domain
-- of their account (a suspended user's mail is kept, not bounced), and every shared
-- mailbox. A personal mailbox is at its owner's address, so it is the user's row.
CREATE VIEW usher_mail_mailboxes_v1 AS
SELECT u.email AS address, d.name AS domain, split_part(u.email, '@', 1) AS local_part,
       'user' AS kind, d.name || '/' || split_part(u.email, '@', 1) || '/' AS maildir
FROM users u
JOIN domains d ON d.account_id = u.account_id AND d.name = split_part(u.email, '@', 2) AND d.active
UNION ALL
SELECT m.address COLLATE "C", d.name, split_part(m.address, '@', 1), 'shared',
       d.name || '/' || split_part(m.address, '@', 1) || '/'
FROM mailboxes m
JOIN domains d ON d.account_id = m.account_id AND d.name = split_part(m.address, '@', 2) AND d.active
WHERE m.kind = 'shared';

-- Where an address's mail goes. Each mailbox maps to itself, so that a site's own
-- catch-all or alias table placed after usher's never takes a real mailbox's mail.
CREATE VIEW usher_mail_aliases_v1 AS
SELECT address, address AS destination FROM usher_mail_mailboxes_v1;

-- The roles that hold mailbox.send_as: a custom role's own permissions, or a system
-- role's from the catalog. Not part of the contract.
CREATE VIEW mail_send_as_roles AS
SELECT r.id FROM roles r
WHERE (r.system AND EXISTS (SELECT 1 FROM system_role_permissions s
                            WHERE s.role_name_key = r.name_key
                              AND s.permission = 'mailbox.send_as'))
   OR (NOT r.system AND EXISTS (SELECT 1 FROM role_permissions p
                                WHERE p.role_id = r.id AND p.permission = 'mailbox.send_as'));

-- A mailbox's grants by holder: the join from a mailbox, and the check for an earlier
-- grant of the same holder, are each one index search.
CREATE INDEX grants_mailbox ON grants (mailbox_id, user_id);

-- Who may send as which address, one row per pair: a user as their own address, and as
-- a mailbox's address when they hold mailbox.send_as on it, by itself or through a role.
-- UNION ALL, not UNION, so that a lookup by address reaches the indexes; a user's
-- further grants on the same mailbox are left out instead.
CREATE VIEW usher_mail_send_as_v1 AS
SELECT u.email AS address, u.email AS login FROM users u
UNION ALL
SELECT m.address COLLATE "C", u.email
FROM mailboxes m
JOIN grants g ON g.mailbox_id = m.id
JOIN users u ON u.id = g.user_id
WHERE m.address <> u.email
  AND (g.permission = 'mailbox.send_as' OR g.role_id IN (SELECT id FROM mail_send_as_roles))
  AND NOT EXISTS (
      SELECT 1 FROM grants e
      WHERE e.user_id = g.user_id AND e.mailbox_id = g.mailbox_id AND e.id < g.id
        AND (e.permission = 'mailbox.send_as'
             OR e.role_id IN (SELECT id FROM mail_send_as_roles)));
