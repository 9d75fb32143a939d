//! Self-registration (docs/rules.md#domains): a person on an account's verified, active
//! domain asks for an account; a mailed link proves the address, and is used once.

use super::{Account, Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registration {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub email_display: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    pub account_id: i64,
    pub email: &'a str,
    pub email_display: &'a str,
    pub token_hash: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

impl Tx {
    /// The account that takes self-registrations on this domain: verified, active, and
    /// with self-registration switched on.
    pub async fn account_registering(&mut self, domain: &str) -> Result<Option<Account>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Account>(
                "SELECT a.id, a.name, a.licences, a.invite_validity_days, a.invitations_enabled,
                        a.created_at, a.self_registration
                 FROM accounts a JOIN domains d ON d.account_id = a.id
                 WHERE d.name = $1 AND d.verified AND d.active AND a.self_registration",
            )
            .bind(domain)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn set_self_registration(&mut self, account_id: i64, on: bool) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE accounts SET self_registration = $2 WHERE id = $1")
                .bind(account_id)
                .bind(on)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn insert_registration(&mut self, r: &NewRegistration<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO registrations
                    (account_id, email, email_display, token_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(r.account_id)
            .bind(r.email)
            .bind(r.email_display)
            .bind(r.token_hash)
            .bind(r.now.0)
            .bind(r.expires_at.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// Registration links asked for this address since `since`: a bound on how much mail
    /// one address can be sent.
    pub async fn registrations_since(
        &mut self,
        account_id: i64,
        email: &str,
        since: Timestamp,
    ) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM registrations
                 WHERE account_id = $1 AND email = $2 AND created_at >= $3",
            )
            .bind(account_id)
            .bind(email)
            .bind(since.0)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }

    /// The unused, unexpired registration behind a link.
    pub async fn open_registration(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Registration>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Registration>(
                "SELECT id, account_id, email, email_display, created_at, expires_at, used_at
                 FROM registrations
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    /// Consumes a registration link; false when it was used (or ran out) meanwhile.
    pub async fn use_registration(&mut self, id: i64, now: Timestamp) -> Result<bool> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE registrations SET used_at = $2
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

    /// An existing platform identity for this address in any account: its password hash
    /// and names. Someone registered elsewhere accepts an invitation rather than enrols.
    pub async fn registered_identity(
        &mut self,
        email: &str,
    ) -> Result<Option<(String, String, String)>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, (String, String, String)>(
                "SELECT password_hash, first_name, last_name FROM users
                 WHERE email = $1 AND password_hash IS NOT NULL AND status = 'active'
                 ORDER BY id LIMIT 1",
            )
            .bind(email)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }
}
