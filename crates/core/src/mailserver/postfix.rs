//! Postfix's lookup tables on usher's views: the domains it accepts, the mailboxes it
//! delivers to, where each address's mail goes, and who may send as which address.

use std::fmt::Write as _;
use std::path::Path;

use super::model::{ALIASES, DOMAINS, MAILBOXES, MailDb, Part, SEND_AS};

/// Each table: the main.cf parameter, its file, and the query (`%s` is the key).
const TABLES: [(&str, &str, &str, &str, &str); 4] = [
    (
        "virtual_mailbox_domains",
        "domains.cf",
        "domain",
        DOMAINS,
        "domain",
    ),
    (
        "virtual_mailbox_maps",
        "mailboxes.cf",
        "maildir",
        MAILBOXES,
        "address",
    ),
    (
        "virtual_alias_maps",
        "aliases.cf",
        "destination",
        ALIASES,
        "address",
    ),
    (
        "smtpd_sender_login_maps",
        "senders.cf",
        "login",
        SEND_AS,
        "address",
    ),
];

pub(super) fn parts(db: &MailDb, dir: &Path) -> Vec<Part> {
    let kind = match db {
        MailDb::Sqlite { .. } => "sqlite",
        MailDb::Postgres { .. } => "pgsql",
    };
    let mut main = String::from(
        "# Written by `usher mailserver config postfix`: lines for main.cf (or for
# `postconf -e`). proxy: lets chrooted smtpd reach the tables through proxymap.
# smtpd_sender_login_maps takes effect with reject_sender_login_mismatch in
# smtpd_sender_restrictions.
",
    );
    let mut parts = Vec::new();
    for (param, file, column, view, key) in TABLES {
        let _ = writeln!(main, "{param} = proxy:{kind}:{}", dir.join(file).display());
        parts.push(Part {
            file,
            text: table(db, column, &db.view(view), key),
        });
    }
    parts.insert(
        0,
        Part {
            file: "main.cf",
            text: main,
        },
    );
    parts
}

fn table(db: &MailDb, column: &str, view: &str, key: &str) -> String {
    let mut t = String::from(
        "# Written by `usher mailserver config postfix`. It may hold a password: keep it
# mode 0640, owned by root, group postfix.
",
    );
    match db {
        MailDb::Sqlite { path } => {
            let _ = writeln!(t, "dbpath = {}", path.display());
        }
        MailDb::Postgres {
            host,
            port,
            dbname,
            user,
            password,
            ..
        } => {
            let _ = writeln!(
                t,
                "hosts = inet:{host}:{port}\ndbname = {dbname}\nuser = {user}"
            );
            if let Some(p) = password {
                let _ = writeln!(t, "password = {p}");
            }
        }
    }
    let _ = writeln!(t, "query = SELECT {column} FROM {view} WHERE {key} = '%s'");
    t
}
