//! The core's errors: each says what went wrong in words a sysadmin can act on.

use crate::domain::email::EmailError;
use crate::domain::licence::SeatsExhausted;
use crate::domain::token::RandomError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
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
    /// The invite feature is off for this operator alone (seed 002).
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

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
