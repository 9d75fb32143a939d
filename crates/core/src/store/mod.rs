//! Storage: one interface, two real backends.
//!
//! Each query is written once, in SQL both SQLite and PostgreSQL accept, and compiled
//! against both drivers by `on_tx!` (so sqlx checks its types for each backend). What
//! really differs between them (connecting, locking, claiming outbox rows) lives in
//! `sqlite.rs` and `postgres.rs`. The capabilities are split by file: accounts, users,
//! invitations, outbox, audit; each adds its methods to `Tx`.

mod accounts;
mod audit;
mod bulk;
mod bulk_edits;
mod domains;
mod imports;
mod invitations;
mod mailboxes;
mod mailings;
mod outbox;
mod pending;
mod postgres;
mod registrations;
mod reports;
mod roles;
mod search;
mod sqlite;
mod templates;
mod users;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::config::Secret;
use crate::error::{Error, Result};

pub use accounts::{Account, NewAccount};
pub use audit::{AuditEntry, ChainedEntry, NewAudit, chain_hash};
pub use bulk::{BulkInvitation, Written};
pub use bulk_edits::UserEdit;
pub use domains::Domain;
pub use imports::{Batch, Change, UserFields};
pub use invitations::{Invitation, InvitationFilter, NewInvitation};
pub use mailboxes::Mailbox;
pub use mailings::{Mailing, Undrafted};
pub use outbox::{Claimed, NewDraft, NewMessage, OutboxCounts, OutboxMessage};
pub use pending::{InvitationEdit, PendingRow, Revocation};
pub use registrations::{NewRegistration, Registration};
pub use roles::{Grant, Grantable, Holder, Member, Role};
pub use templates::{NewTemplate, StoredTemplate};
pub use users::{BulkUser, NewUser, User};

/// Runs `$body` with `$c` bound to the transaction's connection, once per backend, so
/// that one piece of query code serves both.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::store::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxInner::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
    // The same, with a statement that differs between the backends.
    ($tx:expr, sqlite = $s:expr, postgres = $p:expr, |$c:ident, $sql:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::store::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                let $sql = $s;
                $body
            }
            $crate::store::TxInner::Postgres(t) => {
                let $c = &mut **t;
                let $sql = $p;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// The search sample (see `search`), shared by the clones of this handle.
    grams: GramCache,
}

type GramCache = Arc<Mutex<Option<Arc<search::GramStats>>>>;

/// A transaction. Dropped without `commit` it rolls back, so an error part-way through
/// leaves the database as it was.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
    grams: GramCache,
}

#[derive(Debug)]
enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// How a store connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub password: Option<Secret>,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// Create a SQLite file (and its directory) that is not there. The CLI sets it only
    /// for `init` and `db migrate`, so that a mistyped path is an error, not a new
    /// empty database.
    pub create: bool,
    /// The time an upgrade's changes are stamped with (the roles it gives accounts).
    pub clock: std::sync::Arc<dyn crate::domain::Clock>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            password: None,
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            create: true,
            clock: std::sync::Arc::new(crate::domain::SystemClock),
        }
    }
}

impl Store {
    /// Opens the database named by `url` (`sqlite://PATH` or `postgres://...`) and brings
    /// its schema up to date.
    pub async fn open(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let store = Self::connect(url, opts).await?;
        store.migrate_at(opts.clock.now()).await?;
        Ok(store)
    }

    /// Opens without migrating.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(sqlite::connect(url, opts).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Pool::Postgres(postgres::connect(url, opts).await?)
        } else {
            return Err(Error::Connect {
                url: redact_url(url),
                reason: "the URL must start with sqlite:// or postgres://".into(),
            });
        };
        Ok(Self {
            pool,
            grams: GramCache::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date; what the upgrade gives accounts is stamped `now`.
    pub async fn migrate_at(&self, now: crate::domain::Timestamp) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::migrate(p).await?,
            Pool::Postgres(p) => postgres::migrate(p).await?,
        }
        self.seed_system_roles(now).await
    }

    /// Gives every account the system roles of this release. An account that had none (one
    /// from before roles) makes its first user, the administrator `usher init` named, an
    /// Administrator, so that nobody is locked out by the upgrade.
    async fn seed_system_roles(&self, now: crate::domain::Timestamp) -> Result<()> {
        if self.read().await?.system_roles_complete().await? {
            return Ok(());
        }
        let mut tx = self.write().await?;
        for account in tx.accounts().await? {
            tx.give_account_its_roles(account.id, "usher (upgrade)", now)
                .await?;
        }
        tx.commit().await
    }

    /// The migration versions each backend ships (the same on both, checked by a test).
    pub fn migration_versions(backend: Backend) -> Vec<i64> {
        match backend {
            Backend::Sqlite => sqlite::MIGRATOR.iter().map(|m| m.version).collect(),
            Backend::Postgres => postgres::MIGRATOR.iter().map(|m| m.version).collect(),
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way on a busy snapshot.
    pub async fn write(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            grams: self.grams.clone(),
        })
    }

    /// A transaction for reading a consistent view.
    pub async fn read(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            grams: self.grams.clone(),
        })
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Gives back the page cache a big read filled (SQLite: up to 32 MiB a connection,
    /// otherwise kept while the connection idles in the pool). A million-row import reads
    /// the account's users on one connection and writes on another; without this both
    /// caches count toward its peak memory. PostgreSQL's cache is the server's.
    pub async fn release_memory(&mut self) -> Result<()> {
        if let TxInner::Sqlite(t) = &mut self.inner {
            sqlx::query("PRAGMA shrink_memory")
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// SQLite's journal mode, foreign-key enforcement and busy timeout (ms), for checks;
    /// None on PostgreSQL.
    pub async fn sqlite_pragmas(&mut self) -> Result<Option<(String, i64, i64)>> {
        let TxInner::Sqlite(t) = &mut self.inner else {
            return Ok(None);
        };
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **t)
            .await?;
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **t)
            .await?;
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **t)
            .await?;
        Ok(Some((mode, fk, timeout)))
    }

    /// Serialises appends to the audit chain until the transaction ends (PostgreSQL; a
    /// SQLite write transaction is alone already).
    pub async fn lock_audit_chain(&mut self) -> Result<()> {
        match &mut self.inner {
            TxInner::Sqlite(_) => Ok(()),
            TxInner::Postgres(t) => {
                // An arbitrary constant: the audit chain's advisory lock.
                sqlx::query("SELECT pg_advisory_xact_lock(7305811812001)")
                    .execute(&mut **t)
                    .await?;
                Ok(())
            }
        }
    }

    /// Serialises writers that decide on an account's licences. On PostgreSQL this locks
    /// the account row until commit; on SQLite the write transaction already holds the
    /// database's single write lock.
    pub async fn lock_account(&mut self, account_id: i64) -> Result<()> {
        match &mut self.inner {
            TxInner::Sqlite(_) => Ok(()),
            TxInner::Postgres(t) => postgres::lock_account(t, account_id).await,
        }
    }
}

/// The URL with any password replaced, for error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
