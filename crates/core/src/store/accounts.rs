//! Accounts (the organisation) and their domains.

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub licences: i64,
    pub invite_validity_days: i64,
    pub invitations_enabled: bool,
    pub created_at: i64,
    /// People on the account's verified, active domains may register themselves.
    pub self_registration: bool,
}

#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub licences: i64,
    pub invite_validity_days: i64,
    pub now: Timestamp,
}

impl Tx {
    pub async fn insert_account(&mut self, a: &NewAccount<'_>) -> Result<Account> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Account>(
                "INSERT INTO accounts (name, licences, invite_validity_days, invitations_enabled, created_at)
                 VALUES ($1, $2, $3, TRUE, $4)
                 RETURNING id, name, licences, invite_validity_days, invitations_enabled, created_at,
                    self_registration",
            )
            .bind(a.name)
            .bind(a.licences)
            .bind(a.invite_validity_days)
            .bind(a.now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn accounts(&mut self) -> Result<Vec<Account>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Account>(
                "SELECT id, name, licences, invite_validity_days, invitations_enabled, created_at,
                    self_registration
                 FROM accounts ORDER BY id",
            )
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    pub async fn account_by_id(&mut self, id: i64) -> Result<Option<Account>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Account>(
                "SELECT id, name, licences, invite_validity_days, invitations_enabled, created_at,
                    self_registration
                 FROM accounts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn set_licences(&mut self, account_id: i64, licences: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE accounts SET licences = $2 WHERE id = $1")
                .bind(account_id)
                .bind(licences)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn insert_domain(
        &mut self,
        account_id: i64,
        name: &str,
        verified: bool,
        active: bool,
        now: Timestamp,
    ) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO domains (account_id, name, verified, active, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account_id)
            .bind(name)
            .bind(verified)
            .bind(active)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// The account's verified, active domains: where its corporate users, shared mailboxes
    /// and imported users may have their addresses.
    pub async fn domain_names(&mut self, account_id: i64) -> Result<Vec<String>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_scalar::<_, String>(
                "SELECT name FROM domains WHERE account_id = $1 AND verified AND active
                 ORDER BY name",
            )
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }
}
