//! What a sync that creates people directly writes a chunk at a time (docs/sync.md#the-plan):
//! the new users' ids, their links to choose a password, and those links' mail. One row
//! a statement cost PostgreSQL a network round trip each: 430 s for 100,000 people.

use super::{NewMessage, Tx, TxInner, on_tx};
use crate::error::Result;

/// A new user's link: its token's hash and when it stops working.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub user_id: i64,
    pub token_hash: String,
    pub expires_at: i64,
}

impl Tx {
    /// The highest user id now: the users a bulk insert adds come after it.
    pub async fn max_user_id(&mut self) -> Result<i64> {
        let id: Option<i64> = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT MAX(id) FROM users")
                .fetch_one(c)
                .await
        })?;
        Ok(id.unwrap_or(0))
    }

    /// The account's users with ids above `after`, with their canonical addresses.
    pub async fn users_after(&mut self, account_id: i64, after: i64) -> Result<Vec<(i64, String)>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, (i64, String)>(
                "SELECT id, email FROM users WHERE account_id = $1 AND id > $2",
            )
            .bind(account_id)
            .bind(after)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Inserts reset links, `requested_by` the same for all.
    pub async fn insert_links_bulk(
        &mut self,
        account_id: i64,
        requested_by: &str,
        now: i64,
        links: &[NewLink],
    ) -> Result<()> {
        match &mut self.inner {
            // In-process: a statement a row costs microseconds.
            TxInner::Sqlite(t) => {
                for l in links {
                    sqlx::query(
                        "INSERT INTO password_resets
                            (account_id, user_id, token_hash, requested_by, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(account_id)
                    .bind(l.user_id)
                    .bind(&l.token_hash)
                    .bind(requested_by)
                    .bind(now)
                    .bind(l.expires_at)
                    .execute(&mut **t)
                    .await?;
                }
            }
            TxInner::Postgres(t) => {
                sqlx::query(
                    "INSERT INTO password_resets
                        (account_id, user_id, token_hash, requested_by, created_at, expires_at)
                     SELECT $1, u, h, $2, $3, x
                     FROM UNNEST($4::bigint[], $5::text[], $6::bigint[]) AS l(u, h, x)",
                )
                .bind(account_id)
                .bind(requested_by)
                .bind(now)
                .bind(links.iter().map(|l| l.user_id).collect::<Vec<_>>())
                .bind(
                    links
                        .iter()
                        .map(|l| l.token_hash.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(links.iter().map(|l| l.expires_at).collect::<Vec<_>>())
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }

    /// Queues messages, all of one account, kind and sender.
    pub async fn insert_messages_bulk(&mut self, messages: &[NewMessage<'_>]) -> Result<()> {
        let Some(first) = messages.first() else {
            return Ok(());
        };
        let TxInner::Postgres(t) = &mut self.inner else {
            for m in messages {
                self.insert_message(m).await?;
            }
            return Ok(());
        };
        {
            {
                fn col<'m>(
                    list: &[NewMessage<'m>],
                    f: fn(&NewMessage<'m>) -> &'m str,
                ) -> Vec<String> {
                    list.iter().map(|m| f(m).to_owned()).collect()
                }
                sqlx::query(
                    "INSERT INTO outbox (account_id, kind, message_id, env_from, env_to, subject,
                        raw, state, attempts, next_attempt_at, created_at)
                     SELECT $1, $2, i, $3, t, s, r, 'queued', 0, $4, $4
                     FROM UNNEST($5::text[], $6::text[], $7::text[], $8::bytea[])
                          AS m(i, t, s, r)",
                )
                .bind(first.account_id)
                .bind(first.kind)
                .bind(first.env_from)
                .bind(first.now.0)
                .bind(col(messages, |m| m.message_id))
                .bind(col(messages, |m| m.env_to))
                .bind(col(messages, |m| m.subject))
                .bind(messages.iter().map(|m| m.raw.to_vec()).collect::<Vec<_>>())
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }
}
