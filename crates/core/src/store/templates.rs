//! Mail template versions per account, and operators whose invite feature is switched off.

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

/// One saved version of a template. `builtin` means usher's own text is in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StoredTemplate {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub builtin: bool,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    pub account_id: i64,
    pub name: &'a str,
    pub builtin: bool,
    pub subject: &'a str,
    pub body: &'a str,
    pub html: Option<&'a str>,
    pub created_by: &'a str,
    pub now: Timestamp,
}

impl Tx {
    pub async fn insert_template(&mut self, t: &NewTemplate<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO mail_templates
                    (account_id, name, builtin, subject, body, html, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(t.account_id)
            .bind(t.name)
            .bind(t.builtin)
            .bind(t.subject)
            .bind(t.body)
            .bind(t.html)
            .bind(t.created_by)
            .bind(t.now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// The version in force of each of the account's templates that was ever saved.
    pub async fn current_templates(&mut self, account_id: i64) -> Result<Vec<StoredTemplate>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, StoredTemplate>(
                "SELECT t.id, t.account_id, t.name, t.builtin, t.subject, t.body, t.html,
                        t.created_by, t.created_at
                 FROM mail_templates t
                 WHERE t.account_id = $1 AND t.id = (SELECT MAX(id) FROM mail_templates
                    WHERE account_id = t.account_id AND name = t.name)
                 ORDER BY t.name",
            )
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    pub async fn template_by_id(&mut self, id: i64) -> Result<Option<StoredTemplate>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, StoredTemplate>(
                "SELECT id, account_id, name, builtin, subject, body, html, created_by, created_at
                 FROM mail_templates WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    /// Why this operator may not invite, if the invite feature is off for them.
    pub async fn invite_block(
        &mut self,
        account_id: i64,
        operator: &str,
    ) -> Result<Option<String>> {
        let row = on_tx!(self, |c| {
            sqlx::query_scalar::<_, String>(
                "SELECT reason FROM invite_blocks WHERE account_id = $1 AND operator = $2",
            )
            .bind(account_id)
            .bind(operator)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn set_invite_block(
        &mut self,
        account_id: i64,
        operator: &str,
        reason: Option<&str>,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM invite_blocks WHERE account_id = $1 AND operator = $2")
                .bind(account_id)
                .bind(operator)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if let Some(reason) = reason {
            on_tx!(self, |c| {
                sqlx::query(
                    "INSERT INTO invite_blocks (account_id, operator, reason, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(account_id)
                .bind(operator)
                .bind(reason)
                .bind(by)
                .bind(now.0)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn set_invitations_enabled(&mut self, account_id: i64, on: bool) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE accounts SET invitations_enabled = $2 WHERE id = $1")
                .bind(account_id)
                .bind(on)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
