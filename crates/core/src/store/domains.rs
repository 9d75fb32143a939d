//! Domains and their verification (docs/rules.md#domains).

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Domain {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub verified: bool,
    pub active: bool,
    /// The value of the TXT record that proves the domain (None for the one from init).
    pub verify_token: Option<String>,
    /// 'init', 'dns' or 'manual'.
    pub verified_how: Option<String>,
    pub verified_reason: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! select_domains {
    ($tail:literal) => {
        concat!(
            "SELECT id, account_id, name, verified, active, verify_token, verified_how,
                verified_reason, verified_by, verified_at, created_at FROM domains",
            $tail
        )
    };
}

impl Tx {
    pub async fn domains(&mut self, account_id: i64) -> Result<Vec<Domain>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Domain>(select_domains!(" WHERE account_id = $1 ORDER BY name"))
                .bind(account_id)
                .fetch_all(c)
                .await
        })?;
        Ok(rows)
    }

    /// A domain by name, in whichever account has it (a domain belongs to one account).
    pub async fn domain_by_name(&mut self, name: &str) -> Result<Option<Domain>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Domain>(select_domains!(" WHERE name = $1"))
                .bind(name)
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }

    pub async fn set_domain_token(&mut self, id: i64, token: &str) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE domains SET verify_token = $2 WHERE id = $1")
                .bind(id)
                .bind(token)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn set_domain_verified(
        &mut self,
        id: i64,
        how: &str,
        reason: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE domains SET verified = TRUE, verified_how = $2, verified_reason = $3,
                    verified_by = $4, verified_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(how)
            .bind(reason)
            .bind(by)
            .bind(at.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn set_domain_active(&mut self, id: i64, active: bool) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE domains SET active = $2 WHERE id = $1")
                .bind(id)
                .bind(active)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The account's users with an address on `domain`.
    pub async fn count_users_on_domain(&mut self, account_id: i64, domain: &str) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE account_id = $1 AND email LIKE $2")
                .bind(account_id)
                .bind(format!("%@{}", domain.replace(['%', '_'], "")))
                .fetch_one(c)
                .await
        })?;
        Ok(n)
    }

    pub async fn set_user_profile(
        &mut self,
        user_id: i64,
        timezone: &str,
        phone: &str,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO user_profiles (user_id, timezone, phone) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET timezone = $2, phone = $3",
            )
            .bind(user_id)
            .bind(timezone)
            .bind(phone)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A user's (timezone, phone), if set.
    pub async fn user_profile(&mut self, user_id: i64) -> Result<Option<(String, String)>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as("SELECT timezone, phone FROM user_profiles WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }
}
