//! Storage: one interface, two real backends.
//!
//! Each query is written once, in SQL both SQLite and PostgreSQL accept, and compiled
//! against both drivers by `on_tx!` (so sqlx checks its types for each backend). What
//! really differs between them (connecting, locking, claiming outbox rows) lives in
//! `sqlite.rs` and `postgres.rs`. The capabilities are split by file: accounts, users,
//! invitations, outbox, audit; each adds its methods to `Tx`.

mod accounts;
pub mod anchor;
mod audit;
mod bulk;
mod bulk_edits;
mod bulk_user;
mod connect;
mod domains;
mod imports;
mod invitations;
mod mailboxes;
mod mailings;
mod mailserver;
mod migrations;
mod operators;
mod outbox;
mod params;
mod password_resets;
mod pending;
mod postgres;
mod registrations;
mod reports;
mod roles;
mod search;
mod sqlite;
mod sync;
mod templates;
mod tx;
mod users;
mod welcome;

use sqlx::{PgPool, SqlitePool};

use crate::error::{Error, Result};

pub use accounts::{Account, NewAccount};
pub use audit::{AuditEntry, ChainedEntry, NewAudit, chain_hash};
pub use bulk::{BulkInvitation, Written};
pub use bulk_edits::UserEdit;
pub use bulk_user::BulkUser;
use connect::await_returning;
pub use connect::{ConnectOptions, redact_url};
pub use domains::Domain;
pub use imports::{Batch, BatchUserChange, Change, UserFields};
pub use invitations::{Invitation, InvitationFilter, NewInvitation};
pub use mailboxes::Mailbox;
pub use mailings::{Mailing, Undrafted};
pub use mailserver::{MailLogin, ViewCount};
pub use operators::{Identity, OperatorLink};
pub use outbox::{Claimed, NewDraft, NewMessage, OutboxCounts, OutboxMessage};
pub use password_resets::{NewPasswordReset, PasswordReset};
pub use pending::{InvitationEdit, PendingRow, Revocation};
pub use registrations::{NewRegistration, Registration};
pub use roles::{Grant, Grantable, Holder, Member, Role};
pub use sync::{Given, NewSyncRun, RoleHeld, SyncRun};
pub use templates::{NewTemplate, StoredTemplate};
use tx::GramCache;
pub use tx::Tx;
pub(crate) use tx::{TxInner, on_tx};
pub use users::{NewUser, User};
pub use welcome::NewLink;

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
    /// Where each commit that extends the audit chain anchors its head, when this process
    /// can read the audit key.
    anchor: Option<std::sync::Arc<anchor::Anchor>>,
    /// Who is connected, asked once (`identity`).
    identity: std::sync::Arc<tokio::sync::OnceCell<Identity>>,
}

impl Store {
    /// Opens the database named by `url` (`sqlite://PATH` or `postgres://...`) and brings
    /// its schema up to date.
    pub async fn open(url: &str, opts: &ConnectOptions) -> Result<Self> {
        let store = Self::connect(url, opts).await?;
        // An operator's own PostgreSQL role may not change the schema: it only checks
        // that the owner has brought it up to date.
        match &store.pool {
            Pool::Postgres(p) if !store.identity().await?.owner => {
                postgres::require_current(p).await?;
            }
            _ => store.migrate_at(opts.clock.now()).await?,
        }
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
            anchor: None,
            identity: Default::default(),
        })
    }

    /// Anchors the audit chain with the key at `key_file` (made if there is none) in
    /// `anchor_file`, from now on. The chain's start is read from the database.
    pub async fn anchor_with(
        &mut self,
        key_file: &std::path::Path,
        anchor_file: &std::path::Path,
    ) -> Result<()> {
        let key = anchor::load_or_create_key(key_file)?;
        let start = self.read().await?.audit_chain_start().await?;
        self.anchor = Some(std::sync::Arc::new(anchor::Anchor::new(
            key,
            anchor_file.to_owned(),
            start,
        )));
        Ok(())
    }

    /// The SQLite file's path (None for PostgreSQL and an in-memory database).
    fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match &self.pool {
            Pool::Sqlite(p) => Some(sqlite::database_path(p))
                .filter(|p| !p.as_os_str().is_empty() && p.as_os_str() != ":memory:"),
            Pool::Postgres(_) => None,
        }
    }

    /// This handle without the anchor: what a process that cannot read the key does.
    pub fn without_anchor(mut self) -> Self {
        self.anchor = None;
        self
    }

    pub fn anchor(&self) -> Option<&anchor::Anchor> {
        self.anchor.as_deref()
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
            Pool::Postgres(p) => {
                await_returning(p).await;
                TxInner::Postgres(p.begin().await?)
            }
        };
        Ok(Tx {
            inner,
            grams: self.grams.clone(),
            anchor: self.anchor.clone(),
            appended: None,
        })
    }

    /// A transaction for reading a consistent view.
    pub async fn read(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Pool::Postgres(p) => {
                await_returning(p).await;
                TxInner::Postgres(p.begin().await?)
            }
        };
        Ok(Tx {
            inner,
            grams: self.grams.clone(),
            anchor: self.anchor.clone(),
            appended: None,
        })
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
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
