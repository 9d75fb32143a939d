//! Stalwart's SQL directory on usher's views: a store that reaches the database, and the
//! directory's queries and columns.

use std::fmt::Write as _;

use super::model::{DOMAINS, LOGINS, MAILBOXES, MailDb, Part, SEND_AS, toml_string};

pub(super) fn parts(db: &MailDb) -> Vec<Part> {
    let mut t = String::from(
        "# Written by `usher mailserver config stalwart`: a SQL directory on usher's views
# (docs/mailserver.md). Set `storage.directory = \"usher\"` to use it. Secrets carry
# their {ARGON2ID} prefix: Stalwart would take a bare value for a plain-text password.

[store.\"usher\"]
",
    );
    let p = match db {
        MailDb::Sqlite { path } => {
            let _ = writeln!(
                t,
                "type = \"sqlite\"\npath = {}",
                toml_string(&path.display().to_string())
            );
            "?"
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
                "type = \"postgresql\"\nhost = {}\nport = {port}\ndatabase = {}\nuser = {}",
                toml_string(host),
                toml_string(dbname),
                toml_string(user)
            );
            if let Some(pw) = password {
                let _ = writeln!(t, "password = {}", toml_string(pw));
            }
            "$1"
        }
    };
    let (logins, mailboxes) = (db.view(LOGINS), db.view(MAILBOXES));
    let (send_as, domains) = (db.view(SEND_AS), db.view(DOMAINS));
    let queries = [
        (
            "name",
            format!(
                "SELECT login AS name, 'individual' AS type, password AS secret, login AS description, 0 AS quota FROM {logins} WHERE login = {p} AND may_login"
            ),
        ),
        (
            "members",
            format!("SELECT login AS member_of FROM {logins} WHERE login = {p} AND 1 = 0"),
        ),
        (
            "recipients",
            format!("SELECT address AS name FROM {mailboxes} WHERE address = {p}"),
        ),
        (
            "emails",
            format!(
                "SELECT address FROM {send_as} WHERE login = {p} ORDER BY address = login DESC, address"
            ),
        ),
        (
            "domains",
            format!("SELECT domain FROM {domains} WHERE domain = {p}"),
        ),
    ];
    t.push_str("\n[store.\"usher\".query]\n");
    for (name, q) in queries {
        let _ = writeln!(t, "{name} = {}", toml_string(&q));
    }
    t.push_str(
        "
[directory.\"usher\"]
type = \"sql\"
store = \"usher\"

[directory.\"usher\".columns]
name = \"name\"
description = \"description\"
secret = \"secret\"
email = \"address\"
quota = \"quota\"
class = \"type\"
",
    );
    vec![Part {
        file: "usher-stalwart.toml",
        text: t,
    }]
}

/// The queries of a generated configuration, with the placeholder each uses, for the
/// tests that run them against the views.
pub fn queries(text: &str) -> Vec<(String, String)> {
    let Ok(v) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    v.get("store")
        .and_then(|s| s.get("usher"))
        .and_then(|s| s.get("query"))
        .and_then(|q| q.as_table())
        .map(|q| {
            q.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
