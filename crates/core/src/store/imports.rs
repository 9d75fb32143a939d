//! Import batches and the changes each made, for history and undo.

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::{Actor, Timestamp, UserStatus, UserType};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub file_name: String,
    pub file_sha256: String,
    pub counts: String,
    pub undone_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Change {
    pub id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub invitation_id: Option<i64>,
    pub before: String,
}

/// Every field of a user that an import may change.
#[derive(Debug, Clone)]
pub struct UserFields<'a> {
    pub email: &'a str,
    pub email_display: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub display_name: &'a str,
    pub unique_ref: Option<&'a str>,
    pub user_type: UserType,
    pub status: UserStatus,
}

impl Tx {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_batch(
        &mut self,
        account_id: i64,
        at: Timestamp,
        actor: &Actor,
        file_name: &str,
        file_sha256: &str,
        counts: &str,
    ) -> Result<i64> {
        let actor = actor.to_string();
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO import_batches (account_id, at, actor, file_name, file_sha256, counts)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(account_id)
            .bind(at.0)
            .bind(&actor)
            .bind(file_name)
            .bind(file_sha256)
            .bind(counts)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    pub async fn insert_change(
        &mut self,
        batch_id: i64,
        kind: &str,
        user_id: Option<i64>,
        invitation_id: Option<i64>,
        before: &serde_json::Value,
    ) -> Result<()> {
        let before = before.to_string();
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO import_changes (batch_id, kind, user_id, invitation_id, before)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(batch_id)
            .bind(kind)
            .bind(user_id)
            .bind(invitation_id)
            .bind(&before)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn batches(&mut self, account_id: i64, limit: i64) -> Result<Vec<Batch>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Batch>(
                "SELECT id, at, actor, file_name, file_sha256, counts, undone_at
                 FROM import_batches WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(account_id)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// A page of a batch's changes, last first (the order to undo them in): those with
    /// ids below `before` (`i64::MAX` for the first page).
    pub async fn batch_changes(
        &mut self,
        batch_id: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Change>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Change>(
                "SELECT id, kind, user_id, invitation_id, before
                 FROM import_changes WHERE batch_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            )
            .bind(batch_id)
            .bind(before)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Revokes a batch's invitations that are still pending (or expired), cancels their
    /// queued mail and ends the mailing that would draft the rest, in four statements
    /// whatever the batch's size; returns how many were revoked and how many were kept
    /// (already accepted, declined or revoked).
    pub async fn revoke_batch_invitations(
        &mut self,
        batch_id: i64,
        now: Timestamp,
    ) -> Result<(u64, u64)> {
        let revoked = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE invitations SET status = 'revoked', revoked_at = $2, draft_token = NULL
                 WHERE import_batch_id = $1 AND status = 'pending'",
            )
            .bind(batch_id)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled' WHERE state = 'queued' AND id IN (
                    SELECT outbox_id FROM invitations
                    WHERE import_batch_id = $1 AND status = 'revoked' AND revoked_at = $2)",
            )
            .bind(batch_id)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        self.stop_mailing(batch_id).await?;
        let all: i64 = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM invitations WHERE import_batch_id = $1")
                .bind(batch_id)
                .fetch_one(c)
                .await
        })?;
        Ok((revoked, (all as u64).saturating_sub(revoked)))
    }

    pub async fn mark_batch_undone(&mut self, batch_id: i64, at: Timestamp) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE import_batches SET undone_at = $2 WHERE id = $1")
                .bind(batch_id)
                .bind(at.0)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Writes every importable field of a user.
    pub async fn set_user_fields(
        &mut self,
        id: i64,
        f: &UserFields<'_>,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET email = $2, email_display = $3, first_name = $4, last_name = $5,
                    display_name = $6, unique_ref = $7, user_type = $8, status = $9, updated_at = $10
                 WHERE id = $1",
            )
            .bind(id)
            .bind(f.email)
            .bind(f.email_display)
            .bind(f.first_name)
            .bind(f.last_name)
            .bind(f.display_name)
            .bind(f.unique_ref)
            .bind(f.user_type.as_str())
            .bind(f.status.as_str())
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Sets a user's password (an argon2id PHC string, never the password).
    pub async fn set_password_hash(&mut self, id: i64, phc: &str, must_change: bool) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(phc)
            .bind(must_change)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The stored password hash and whether it must be changed, for checks.
    pub async fn password_hash(&mut self, id: i64) -> Result<Option<(Option<String>, bool)>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, (Option<String>, bool)>(
                "SELECT password_hash, must_change_password FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    /// Puts a removed user back with its old id (undo of a removal).
    pub async fn restore_user(
        &mut self,
        account_id: i64,
        id: i64,
        f: &UserFields<'_>,
        created_at: i64,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO users (id, account_id, email, email_display, first_name, last_name,
                    display_name, unique_ref, user_type, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(account_id)
            .bind(f.email)
            .bind(f.email_display)
            .bind(f.first_name)
            .bind(f.last_name)
            .bind(f.display_name)
            .bind(f.unique_ref)
            .bind(f.user_type.as_str())
            .bind(f.status.as_str())
            .bind(created_at)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

/// One user change of an import, with the user as they are now (None when removed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchUserChange {
    pub kind: String,
    pub before: String,
    pub email: Option<String>,
    pub user_type: Option<String>,
}

impl Tx {
    /// The suspensions, removals and updates of users an import made.
    pub async fn batch_user_changes(&mut self, batch_id: i64) -> Result<Vec<BatchUserChange>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, BatchUserChange>(
                "SELECT c.kind, c.before, u.email, u.user_type
                 FROM import_changes c LEFT JOIN users u ON u.id = c.user_id
                 WHERE c.batch_id = $1 AND c.kind IN ('suspend', 'remove', 'update')
                 ORDER BY c.id",
            )
            .bind(batch_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }
}
