//! Dovecot's passdb and userdb on usher's views, in the 2.3 form (a passdb block whose
//! SQL lives in an `args` file) and the 2.4 form (named blocks, the SQL inline).

use std::path::Path;

use super::model::{DovecotVersion, LOGINS, Layout, MAILBOXES, MailDb, Part, libpq_value};

const INCLUDE: &str = "usher-auth.conf.ext";
const SQL: &str = "usher-sql.conf.ext";

pub(super) fn parts(db: &MailDb, layout: &Layout, v: DovecotVersion, dir: &Path) -> Vec<Part> {
    match v {
        DovecotVersion::V23 => vec![
            Part {
                file: INCLUDE,
                text: include_23(layout, &dir.join(SQL)),
            },
            Part {
                file: SQL,
                text: sql_23(db),
            },
        ],
        DovecotVersion::V24 => vec![Part {
            file: INCLUDE,
            text: include_24(db, layout),
        }],
    }
}

const HEADER: &str =
    "# Written by `usher mailserver config dovecot`: logins and mailboxes from usher's
# views (docs/mailserver.md). A user may log in only while usher says so: active, on an
# active domain, with a password they set. Passwords come with their {ARGON2ID} prefix.
";

fn include_23(layout: &Layout, sql: &Path) -> String {
    let sql = sql.display();
    format!(
        "{HEADER}# Dovecot 2.3 form; `--dovecot-version 2.4` writes the 2.4 form. 2.3 reads a SQL
# passdb's settings from a file of their own (args below): `--dir` writes it beside
# this one; printed, it follows this one as comments.
passdb {{
  driver = sql
  args = {sql}
}}
userdb {{
  driver = sql
  args = {sql}
  default_fields = uid={uid} gid={gid} home={home}/%d/%n mail={mail}
}}
",
        uid = layout.vmail_user,
        gid = layout.vmail_group,
        home = layout.home_root,
        mail = layout.mail,
    )
}

fn sql_23(db: &MailDb) -> String {
    let (driver, connect) = match db {
        MailDb::Sqlite { path } => ("sqlite", path.display().to_string()),
        MailDb::Postgres {
            host,
            port,
            dbname,
            user,
            password,
            ..
        } => {
            let mut c = format!(
                "host={} port={port} dbname={} user={}",
                libpq_value(host),
                libpq_value(dbname),
                libpq_value(user)
            );
            if let Some(p) = password {
                c.push_str(&format!(" password={}", libpq_value(p)));
            }
            ("pgsql", c)
        }
    };
    let (logins, mailboxes) = (db.view(LOGINS), db.view(MAILBOXES));
    format!(
        "# Written by `usher mailserver config dovecot` (Dovecot 2.3): the SQL behind
# usher-auth.conf.ext. It may hold a password: keep it mode 0600, owned by root.
driver = {driver}
connect = {connect}
password_query = SELECT login AS user, password FROM {logins} WHERE login = '%Lu' AND may_login
user_query = SELECT address AS user FROM {mailboxes} WHERE address = '%Lu'
iterate_query = SELECT address AS user FROM {mailboxes}
"
    )
}

fn include_24(db: &MailDb, layout: &Layout) -> String {
    let connection = match db {
        MailDb::Sqlite { path } => {
            format!("sql_driver = sqlite\nsqlite_path = {}\n", path.display())
        }
        MailDb::Postgres {
            host,
            port,
            dbname,
            user,
            password,
            ..
        } => {
            let password = password
                .as_ref()
                .map(|p| format!("    password = {}\n", quote_24(p)))
                .unwrap_or_default();
            format!(
                "sql_driver = pgsql\npgsql {host} {{\n  parameters {{\n    port = {port}\n    dbname = {}\n    user = {}\n{password}  }}\n}}\n",
                quote_24(dbname),
                quote_24(user)
            )
        }
    };
    let (driver, path) = layout
        .mail
        .split_once(':')
        .unwrap_or(("maildir", "~/Maildir"));
    let (logins, mailboxes) = (db.view(LOGINS), db.view(MAILBOXES));
    format!(
        "{HEADER}# Dovecot 2.4 form: the site's dovecot.conf begins with dovecot_config_version.
{connection}passdb sql {{
  query = SELECT login AS user, password FROM {logins} WHERE login = '%{{user | lower}}' AND may_login
}}
userdb sql {{
  query = SELECT address AS user FROM {mailboxes} WHERE address = '%{{user | lower}}'
  iterate_query = SELECT address AS user FROM {mailboxes}
  fields {{
    uid = {uid}
    gid = {gid}
    home = {home}/%{{user | domain}}/%{{user | username}}
    mail_driver = {driver}
    mail_path = {path}
  }}
}}
",
        uid = layout.vmail_user,
        gid = layout.vmail_group,
        home = layout.home_root,
    )
}

/// A 2.4 setting's value, quoted when it holds what the parser would split on.
fn quote_24(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@/".contains(c))
    {
        return v.to_owned();
    }
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}
