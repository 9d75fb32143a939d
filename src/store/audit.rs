//! The audit log: append-only (triggers refuse UPDATE and DELETE), written in the same
//! transaction as the change it records, and chained: each row's hash covers its fields
//! and the hash of the row before, so a changed or missing row shows.

use serde::Serialize;

use super::{Tx, on_tx};
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
        let prev = on_tx!(self, |c| {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(c)
            .await
        })?
        .flatten()
        .unwrap_or_default();
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
        Ok(id)
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
