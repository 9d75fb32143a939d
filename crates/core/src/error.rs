//! The core's errors: each says what went wrong in words a sysadmin can act on.

use crate::domain::email::EmailError;
use crate::domain::licence::SeatsExhausted;
use crate::domain::token::RandomError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// The database went away (restarted, network cut, pool unable to connect). The
    /// transaction in progress, if any, is rolled back by the server.
    #[error(
        "lost the connection to the database ({0}); a change in progress was rolled back, so nothing of it was saved"
    )]
    ConnectionLost(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open the database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error(transparent)]
    Seats(#[from] SeatsExhausted),
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error("{}", join_lines(.0))]
    Emails(Vec<EmailError>),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(
        "no account yet: run `usher init --org NAME --domain DOMAIN --licences N --admin EMAIL` first"
    )]
    NoAccount,
    #[error(
        "several accounts exist ({0}): choose one with `account = \"...\"` in the config or USHER_ACCOUNT"
    )]
    AmbiguousAccount(String),
    #[error("an account already exists ({0}); usher init runs once per database")]
    AlreadyInitialised(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with the data as it is now; `with` says how.
    #[error("{detail}")]
    Conflict { with: Clash, detail: String },
    /// The operator lacks a permission, or a rule (a guest's limits) forbids the change.
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("invitations are switched off for account '{0}'")]
    InvitationsDisabled(String),
    /// The invite feature is off for this operator alone (docs/rules.md#invitations).
    #[error("invitations are switched off for {operator}: {reason}")]
    InviteBlocked { operator: String, reason: String },
    #[error("mail template: {0}")]
    Template(String),
    /// A message that cannot be built (an address or a file's type it cannot carry).
    #[error("mail: {0}")]
    Message(String),
    /// A queued draft that cannot be made whole (unreadable, or its shared part gone):
    /// it never will be, so it is not retried.
    #[error("mail: {0}")]
    Draft(String),
    /// The mail transport's own configuration (a CA file, TLS) is wrong.
    #[error("mail: {0}")]
    MailSetup(String),
    /// An invitation link that cannot be followed. Unknown, expired, revoked and used
    /// links look the same, so a visitor learns nothing of which it was.
    #[error("this invitation link cannot be used; ask your administrator to send a new one")]
    LinkUnusable,
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    /// A server usher checks (a mail server's IMAP) did not answer as one should.
    #[error("{0}")]
    Unreachable(String),
    /// A directory a sync reads cannot be read whole.
    #[error(transparent)]
    Directory(#[from] crate::sync::DirectoryError),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The audit key or its anchor cannot be read or written, or the anchor is forged.
    #[error("audit anchor: {0}")]
    Anchor(#[from] crate::store::anchor::AnchorError),
    /// A background task ended without its answer (it panicked or was cancelled).
    #[error("a background task failed: {0}")]
    Task(String),
    /// A stored record (a snapshot for undo, a draft, a row) that cannot be written or
    /// read back as what it should be.
    #[error("{what} cannot be read or written: {reason}")]
    Corrupt { what: String, reason: String },
}

/// What a caller can do about an error, whatever its words say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input is wrong (a field, an address, a template): fix what is named.
    Invalid,
    /// What was named does not exist.
    NotFound,
    /// The change clashes with the data as it is now.
    Conflict(Clash),
    /// The operator may not do this, or a rule (licences, a guest's limits) forbids it.
    Refused,
    /// The database or a server cannot be reached now; trying again later may work.
    Unavailable,
    /// Something stored or configured is wrong; trying again will not help.
    Broken,
}

/// How a change clashes with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// It exists already: a user, a pending invitation, a role, a mailbox, a domain.
    Exists,
    /// It is not in a state that allows this: not pending, already undone, already
    /// active, not verified.
    State,
    /// The account changed since the caller looked (a preview's digest): look again.
    Changed,
    /// Rows of the file cannot be imported; the others may be, on purpose.
    FaultyRows,
    /// Something else needs it: the last Administrator, a role that is held.
    InUse,
}

/// What the caller can do about a directory's failure: wait for the server, or fix the
/// source's settings.
fn directory_kind(d: &crate::sync::DirectoryError) -> Kind {
    use crate::sync::DirectoryError as D;
    match d {
        D::Unreachable { .. } | D::Dropped { .. } => Kind::Unavailable,
        D::Bind { .. } => Kind::Refused,
        D::Search { .. } | D::NoGroup { .. } | D::Setup(_) => Kind::Broken,
    }
}

fn join_lines(errs: &[EmailError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if connection_lost(&e) {
            Self::ConnectionLost(e)
        } else {
            Self::Db(e)
        }
    }
}

/// Whether a database error means the connection itself failed, rather than the query:
/// a socket error, a pool that could not connect in time, or PostgreSQL's connection
/// exception class (08) and shutdown codes (57P01-57P03).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

impl Error {
    /// Worth trying again once the database is back: nothing was saved.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Self::ConnectionLost(_))
    }

    /// A clash with the data as it is now.
    pub fn conflict(with: Clash, detail: impl Into<String>) -> Self {
        Self::Conflict {
            with,
            detail: detail.into(),
        }
    }

    /// A stored record that cannot be written or read back.
    pub fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// What the caller can do about it.
    pub fn kind(&self) -> Kind {
        match self {
            Self::ConnectionLost(_)
            | Self::Connect { .. }
            | Self::Dns(_)
            | Self::Unreachable(_) => Kind::Unavailable,
            Self::Directory(d) => directory_kind(d),
            Self::Email(_)
            | Self::Emails(_)
            | Self::Invalid { .. }
            | Self::AmbiguousAccount(_)
            | Self::Template(_)
            | Self::Message(_) => Kind::Invalid,
            Self::NoAccount | Self::NotFound(_) => Kind::NotFound,
            Self::AlreadyInitialised(_) => Kind::Conflict(Clash::Exists),
            Self::Conflict { with, .. } => Kind::Conflict(*with),
            Self::Seats(_)
            | Self::Forbidden(_)
            | Self::InvitationsDisabled(_)
            | Self::InviteBlocked { .. }
            | Self::LinkUnusable => Kind::Refused,
            Self::Db(_)
            | Self::Migrate(_)
            | Self::Random(_)
            | Self::Anchor(_)
            | Self::Task(_)
            | Self::Draft(_)
            | Self::MailSetup(_)
            | Self::Corrupt { .. } => Kind::Broken,
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_and_pool_failures_are_a_lost_connection() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(Error::from(sqlx::Error::Io(io)).is_connection_lost());
        assert!(Error::from(sqlx::Error::PoolTimedOut).is_connection_lost());
        assert!(!Error::from(sqlx::Error::RowNotFound).is_connection_lost());
        assert!(
            Error::from(sqlx::Error::PoolTimedOut)
                .to_string()
                .starts_with("lost the connection to the database")
        );
    }

    #[test]
    fn each_error_says_what_can_be_done_about_it() {
        let lost = Error::from(sqlx::Error::PoolTimedOut);
        assert_eq!(lost.kind(), Kind::Unavailable);
        assert_eq!(Error::Draft("gone".into()).kind(), Kind::Broken);
        assert_eq!(Error::Message("bad".into()).kind(), Kind::Invalid);
        assert_eq!(Error::corrupt("a draft", "eof").kind(), Kind::Broken);
        assert_eq!(Error::NotFound("user x".into()).kind(), Kind::NotFound);
        assert_eq!(Error::Forbidden("no".into()).kind(), Kind::Refused);
        let changed = Error::conflict(Clash::Changed, "look again");
        assert_eq!(changed.kind(), Kind::Conflict(Clash::Changed));
        // The words stay the caller's to show, not to read.
        assert_eq!(changed.to_string(), "look again");
        assert_eq!(
            Error::corrupt("user 7", "unknown type 'x'").to_string(),
            "user 7 cannot be read or written: unknown type 'x'"
        );
    }
}
