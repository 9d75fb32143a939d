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
    #[error("{0}")]
    Conflict(String),
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
    #[error("mail: {0}")]
    Mail(String),
    /// An invitation link that cannot be followed. Unknown, expired, revoked and used
    /// links look the same, so a visitor learns nothing of which it was.
    #[error("this invitation link cannot be used; ask your administrator to send a new one")]
    LinkUnusable,
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("a background task failed: {0}")]
    Task(String),
    #[error("enrolment server: {0}")]
    Serve(String),
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
}
