//! What the configurations are written from: the views' names, how the mail server
//! reaches the database, where mail lives, and one file of a configuration.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::error::{Error, Result};

/// The contract's views, versioned by their suffix (docs/mailserver.md).
pub const LOGINS: &str = "usher_mail_logins_v1";
pub const DOMAINS: &str = "usher_mail_domains_v1";
pub const MAILBOXES: &str = "usher_mail_mailboxes_v1";
pub const ALIASES: &str = "usher_mail_aliases_v1";
pub const SEND_AS: &str = "usher_mail_send_as_v1";
pub const VIEWS: [&str; 5] = [LOGINS, DOMAINS, MAILBOXES, ALIASES, SEND_AS];

/// The PostgreSQL role a mail server logs in as, unless the site names another.
pub const DEFAULT_ROLE: &str = "usher_mail";

/// How the mail server reaches usher's database: a file, or a PostgreSQL server as the
/// read-only role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailDb {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        host: String,
        port: u16,
        dbname: String,
        user: String,
        password: Option<String>,
        /// The schema holding usher's views when it is not `public`.
        schema: Option<String>,
    },
}

impl MailDb {
    /// The mail server's view of usher's database at `url`: the same file or server, as
    /// `user` (PostgreSQL) with `password`, in `schema`.
    pub fn from_url(
        url: &str,
        user: &str,
        password: Option<String>,
        schema: Option<String>,
    ) -> Result<Self> {
        let bad = |reason: String| Error::invalid("database_url", reason);
        if url.starts_with("sqlite:") {
            let o = SqliteConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            let path = o.get_filename();
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            return Ok(MailDb::Sqlite { path });
        }
        let o = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
        Ok(MailDb::Postgres {
            host: o.get_host().to_owned(),
            port: o.get_port(),
            dbname: o.get_database().unwrap_or(o.get_username()).to_owned(),
            user: user.to_owned(),
            password,
            schema: schema.filter(|s| s != "public"),
        })
    }

    /// A view's name as a query must write it: qualified by the schema when there is one.
    pub fn view(&self, name: &str) -> String {
        match self {
            MailDb::Postgres {
                schema: Some(s), ..
            } => format!("\"{}\".{name}", s.replace('"', "\"\"")),
            _ => name.to_owned(),
        }
    }
}

/// Where and as whom the mail server keeps mail: one system user owns every mailbox, each
/// in a home under `home_root` named by domain and local part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub vmail_user: String,
    pub vmail_group: String,
    pub home_root: String,
    /// Dovecot's mail location inside the home (2.3's `mail`, 2.4's `mail_driver` and
    /// `mail_path` are derived from it).
    pub mail: String,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            vmail_user: "vmail".into(),
            vmail_group: "vmail".into(),
            home_root: "/var/vmail".into(),
            mail: "maildir:~/Maildir".into(),
        }
    }
}

/// Dovecot's two configuration forms: 2.4 (Debian 13) refuses 2.3's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DovecotVersion {
    V23,
    V24,
}

impl FromStr for DovecotVersion {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            v if v.starts_with("2.3") => Ok(Self::V23),
            v if v.starts_with("2.4") => Ok(Self::V24),
            other => Err(format!(
                "'{other}' is not a Dovecot version usher writes for (2.3 or 2.4)"
            )),
        }
    }
}

/// One file of a configuration: its name in the site's directory, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub file: &'static str,
    pub text: String,
}

/// A value for a libpq connection string, quoted when it must be.
pub(super) fn libpq_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\'', '\\']) {
        return v.to_owned();
    }
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A string for a TOML file.
pub(super) fn toml_string(v: &str) -> String {
    toml::Value::String(v.to_owned()).to_string()
}
