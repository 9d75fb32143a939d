//! The audit log: append-only (triggers refuse UPDATE and DELETE), written in the same
//! transaction as the change it records.

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

impl Tx {
    pub async fn append_audit(&mut self, e: &NewAudit<'_>) -> Result<i64> {
        let actor = e.actor.to_string();
        let details = e.details.to_string();
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO audit_log (at, actor, action, target, details)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(e.at.0)
            .bind(&actor)
            .bind(e.action)
            .bind(e.target)
            .bind(&details)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
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
