//! Password reset links (docs/mailserver.md): only the token's hash is kept; a link works
//! once, until it expires, and a new password closes every open link of the user.

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

/// An open reset link, with what its page and mail need of the user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasswordReset {
    pub id: i64,
    pub account_id: i64,
    pub user_id: i64,
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewPasswordReset<'a> {
    pub account_id: i64,
    pub user_id: i64,
    pub token_hash: &'a str,
    pub requested_by: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

impl Tx {
    pub async fn insert_password_reset(&mut self, r: &NewPasswordReset<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO password_resets
                    (account_id, user_id, token_hash, requested_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(r.account_id)
            .bind(r.user_id)
            .bind(r.token_hash)
            .bind(r.requested_by)
            .bind(r.now.0)
            .bind(r.expires_at.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// How many links the user was sent since `since`: the rate limit's count.
    pub async fn password_resets_since(&mut self, user_id: i64, since: Timestamp) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at > $2",
            )
            .bind(user_id)
            .bind(since.0)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }

    /// The unused, unexpired link behind a token, while its user is active.
    pub async fn open_password_reset(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PasswordReset>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, PasswordReset>(
                "SELECT r.id, r.account_id, r.user_id, u.email, u.email_display, u.first_name,
                        u.last_name, r.expires_at
                 FROM password_resets r JOIN users u ON u.id = r.user_id
                 WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2
                   AND u.status = 'active'",
            )
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    /// Consumes a link; false when it was used (or ran out) meanwhile.
    pub async fn use_password_reset(&mut self, id: i64, now: Timestamp) -> Result<bool> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE password_resets SET used_at = $2
                 WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(id)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Closes every open link of the users with this address: a new password makes them
    /// moot. Returns how many were closed.
    pub async fn close_password_resets(&mut self, email: &str, now: Timestamp) -> Result<u64> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE password_resets SET used_at = $2
                 WHERE used_at IS NULL
                   AND user_id IN (SELECT id FROM users WHERE email = $1)",
            )
            .bind(email)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// A new password for everyone with this address (one identity across accounts, as
    /// enrolment treats it); the forced change, if any, is done.
    pub async fn set_password_for_email(&mut self, email: &str, phc: &str) -> Result<u64> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET password_hash = $2, must_change_password = FALSE
                 WHERE email = $1",
            )
            .bind(email)
            .bind(phc)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// The active users with this address that have a password, in any account: who may
    /// change it, and whose hash the current password is checked against.
    pub async fn password_holders(&mut self, email: &str) -> Result<Vec<(i64, i64, String)>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, (i64, i64, String)>(
                "SELECT id, account_id, password_hash FROM users
                 WHERE email = $1 AND status = 'active' AND password_hash IS NOT NULL
                 ORDER BY id",
            )
            .bind(email)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The active users with this address, in any account, with their account: who may
    /// be sent a reset link.
    pub async fn active_users_by_email(&mut self, email: &str) -> Result<Vec<(i64, i64)>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, account_id FROM users WHERE email = $1 AND status = 'active'
                 ORDER BY id",
            )
            .bind(email)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }
}
