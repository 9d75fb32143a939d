//! Mailboxes: shared ones, and a user's personal one (docs/rules.md#roles).

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Mailbox {
    pub id: i64,
    pub address: String,
    pub name: String,
    pub kind: String,
    pub owner: Option<String>,
    pub created_at: i64,
}

macro_rules! select_mailboxes {
    ($tail:literal) => {
        concat!(
            "SELECT m.id, m.address, m.name, m.kind, u.email_display AS owner, m.created_at
             FROM mailboxes m LEFT JOIN users u ON u.id = m.owner_user_id",
            $tail
        )
    };
}

impl Tx {
    pub async fn mailbox_by_address(
        &mut self,
        account_id: i64,
        address: &str,
    ) -> Result<Option<Mailbox>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Mailbox>(select_mailboxes!(
                " WHERE m.account_id = $1 AND m.address = $2"
            ))
            .bind(account_id)
            .bind(address)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn mailboxes(&mut self, account_id: i64) -> Result<Vec<Mailbox>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Mailbox>(select_mailboxes!(
                " WHERE m.account_id = $1 ORDER BY m.address"
            ))
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    pub async fn insert_mailbox(
        &mut self,
        account_id: i64,
        address: &str,
        name: &str,
        owner_user_id: Option<i64>,
        now: Timestamp,
    ) -> Result<i64> {
        let kind = if owner_user_id.is_some() {
            "personal"
        } else {
            "shared"
        };
        let id = on_tx!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO mailboxes (account_id, address, name, kind, owner_user_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(account_id)
            .bind(address)
            .bind(name)
            .bind(kind)
            .bind(owner_user_id)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// Removes a mailbox and, by cascade, its grants (an import's undo).
    pub async fn delete_mailbox(&mut self, id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM mailboxes WHERE id = $1")
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
