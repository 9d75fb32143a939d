//! The audit log: append-only (triggers refuse UPDATE and DELETE), written in the same
//! transaction as the change it records, and chained: each row's hash covers its fields
//! and the hash of the row before, so a changed or missing row shows.

use serde::Serialize;

use super::{Tx, TxInner, on_tx};
use crate::domain::{Actor, Timestamp};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub at: Timestamp,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: &'a str,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

/// An entry with its link in the chain, for `usher audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChainedEntry {
    #[sqlx(flatten)]
    pub entry: AuditEntry,
    pub hash: Option<String>,
}

/// A row's hash: SHA-256 over the previous row's hash and this row's fields, each
/// length-prefixed so that no two different rows hash alike.
pub fn chain_hash(
    prev: &str,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [prev, &at.to_string(), actor, action, target, details] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Tx {
    pub async fn append_audit(&mut self, e: &NewAudit<'_>) -> Result<i64> {
        let actor = e.actor.to_string();
        let details = e.details.to_string();
        // One writer at a time extends the chain (SQLite has one writer anyway).
        self.lock_audit_chain().await?;
        let prev = self.chain_head().await?;
        let hash = chain_hash(&prev, e.at.0, &actor, e.action, e.target, &details);
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO audit_log (at, actor, action, target, details, hash)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(e.at.0)
            .bind(&actor)
            .bind(e.action)
            .bind(e.target)
            .bind(&details)
            .bind(&hash)
            .fetch_one(c)
            .await
        })?;
        self.appended = Some((id, hash));
        Ok(id)
    }

    /// Appends entries in their order, extending the chain from its head as one append
    /// at a time would: one statement per chunk instead of three per entry.
    pub async fn append_audit_many(&mut self, entries: &[NewAudit<'_>]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.lock_audit_chain().await?;
        let mut prev = self.chain_head().await?;
        let rows: Vec<(i64, String, &str, &str, String, String)> = entries
            .iter()
            .map(|e| {
                let actor = e.actor.to_string();
                let details = e.details.to_string();
                let hash = chain_hash(&prev, e.at.0, &actor, e.action, e.target, &details);
                prev.clone_from(&hash);
                (e.at.0, actor, e.action, e.target, details, hash)
            })
            .collect();
        for chunk in rows.chunks(super::params::CHUNK) {
            // In the entries' order, so that ids follow the chain.
            match &mut self.inner {
                TxInner::Sqlite(t) => {
                    sqlx::query(
                        "INSERT INTO audit_log (at, actor, action, target, details, hash)
                         SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
                            j.value ->> 4, j.value ->> 5
                         FROM jsonb_each($1) AS j ORDER BY CAST(j.key AS INTEGER)",
                    )
                    .bind(super::params::json_rows(chunk, |r| r))
                    .execute(&mut **t)
                    .await?;
                }
                TxInner::Postgres(t) => {
                    use super::params::column;
                    sqlx::query(
                        "INSERT INTO audit_log (at, actor, action, target, details, hash)
                         SELECT a.at, a.actor, a.action, a.target, a.details, a.hash
                         FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::text[]) WITH ORDINALITY AS a(at, actor, action, target, details,
                            hash, n)
                         ORDER BY a.n",
                    )
                    .bind(column(chunk, |r| r.0))
                    .bind(column(chunk, |r| r.1.as_str()))
                    .bind(column(chunk, |r| r.2))
                    .bind(column(chunk, |r| r.3))
                    .bind(column(chunk, |r| r.4.as_str()))
                    .bind(column(chunk, |r| r.5.as_str()))
                    .execute(&mut **t)
                    .await?;
                }
            }
        }
        let row = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>("SELECT MAX(id) FROM audit_log")
                .fetch_one(c)
                .await
        })?;
        self.appended = Some((row, prev));
        Ok(())
    }

    /// Where the chain began: rows from this id on must carry a hash.
    pub async fn audit_chain_start(&mut self) -> Result<i64> {
        let start = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>("SELECT started_at FROM audit_chain WHERE id = 1")
                .fetch_optional(c)
                .await
        })?;
        Ok(start.unwrap_or(1))
    }

    /// The newest row's id and hash, if there is a row.
    pub async fn audit_head(&mut self) -> Result<Option<(i64, Option<String>)>> {
        let head = on_tx!(self, |c| {
            sqlx::query_as::<_, (i64, Option<String>)>(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(c)
            .await
        })?;
        Ok(head)
    }

    /// The newest entry's hash ("" for an empty log or one from before the chain).
    async fn chain_head(&mut self) -> Result<String> {
        let head = on_tx!(self, |c| {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(c)
            .await
        })?;
        Ok(head.flatten().unwrap_or_default())
    }

    /// A page of the chain in id order, after `after`.
    pub async fn audit_chain(&mut self, after: i64, limit: i64) -> Result<Vec<ChainedEntry>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, ChainedEntry>(
                "SELECT id, at, actor, action, target, details, hash FROM audit_log
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The newest entries first, before id `before` (0 for the newest).
    pub async fn list_audit(&mut self, before: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, AuditEntry>(
                "SELECT id, at, actor, action, target, details FROM audit_log
                 WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }
}
