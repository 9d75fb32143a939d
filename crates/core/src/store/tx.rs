//! A transaction on either backend, and the macro that runs one piece of query code on
//! both.

use std::sync::{Arc, Mutex};

use sqlx::{Postgres, Sqlite, Transaction};

use super::postgres;
use super::search;
use crate::error::Result;

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

pub(super) type GramCache = Arc<Mutex<Option<Arc<search::GramStats>>>>;

/// A transaction. Dropped without `commit` it rolls back, so an error part-way through
/// leaves the database as it was.
#[derive(Debug)]
pub struct Tx {
    pub(super) inner: TxInner,
    pub(super) grams: GramCache,
    pub(super) anchor: Option<Arc<super::anchor::Anchor>>,
    /// The newest audit row this transaction wrote and its hash, to anchor once committed.
    pub(super) appended: Option<(i64, String)>,
}

#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        // The change stands whatever happens to the anchor: a failure to write it is
        // said, and `usher audit verify` reports the anchor behind.
        if let (Some(anchor), Some((row, hash))) = (&self.anchor, &self.appended) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            if let Err(e) = anchor.advance(*row, hash, now) {
                tracing::warn!("audit anchor not moved: {e}");
            }
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
