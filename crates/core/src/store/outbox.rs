//! The transactional outbox: mail is written in the same transaction as the change that
//! causes it, and a sender delivers it later under a lease.

use serde::Serialize;

use super::params::json_rows;
use super::{Tx, TxInner, on_tx};
use crate::domain::{DeliveryState, Timestamp};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub account_id: i64,
    pub kind: &'a str,
    pub message_id: &'a str,
    pub env_from: &'a str,
    /// Envelope recipients, comma-separated.
    pub env_to: &'a str,
    pub subject: &'a str,
    pub raw: &'a [u8],
    pub now: Timestamp,
}

/// A message queued as a draft (see `mail::draft`), for a bulk insert.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub message_id: String,
    pub env_to: String,
    pub subject: String,
    /// The draft's JSON.
    pub draft: String,
}

/// A message a sender holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub message_id: String,
    pub env_from: String,
    pub env_to: String,
    pub raw: Vec<u8>,
    /// Set for a message queued as a draft: `raw` is then empty until rendered.
    pub draft: Option<String>,
    pub created_at: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub env_to: String,
    pub subject: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    kind: String,
    message_id: String,
    env_to: String,
    subject: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Queued messages, those of imports still to be drafted included.
    pub queued: i64,
    /// Invitations of imports whose mail the sender has yet to draft (see
    /// `store::mailings`).
    pub undrafted: i64,
    pub sent: i64,
    pub failed: i64,
}

const CLAIM_SQLITE: &str = "UPDATE outbox
    SET lease_until = $1, lease_owner = $2, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox
                 WHERE state = 'queued' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until <= $3)
                 ORDER BY next_attempt_at, id LIMIT $4)
    RETURNING id, message_id, env_from, env_to, raw, draft, created_at, attempts";

// The same, with SKIP LOCKED so that concurrent senders take disjoint rows.
const CLAIM_POSTGRES: &str = "UPDATE outbox
    SET lease_until = $1, lease_owner = $2, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox
                 WHERE state = 'queued' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until <= $3)
                 ORDER BY next_attempt_at, id LIMIT $4
                 FOR UPDATE SKIP LOCKED)
    RETURNING id, message_id, env_from, env_to, raw, draft, created_at, attempts";

impl Tx {
    pub async fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO outbox (account_id, kind, message_id, env_from, env_to, subject, raw,
                    state, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, $8) RETURNING id",
            )
            .bind(m.account_id)
            .bind(m.kind)
            .bind(m.message_id)
            .bind(m.env_from)
            .bind(m.env_to)
            .bind(m.subject)
            .bind(m.raw)
            .bind(m.now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// Takes up to `limit` due messages under a lease held by `owner` until `lease_until`.
    /// A sender that dies keeps its lease until then; the message is then due again and
    /// goes out with the same Message-ID.
    pub async fn claim_due(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<Claimed>> {
        let rows = on_tx!(
            self,
            sqlite = CLAIM_SQLITE,
            postgres = CLAIM_POSTGRES,
            |c, sql| {
                sqlx::query_as::<_, Claimed>(sql)
                    .bind(lease_until.0)
                    .bind(owner)
                    .bind(now.0)
                    .bind(limit)
                    .fetch_all(c)
                    .await
            }
        )?;
        Ok(rows)
    }

    /// Marks a message sent, if `owner` still holds it.
    pub async fn mark_sent(&mut self, id: i64, owner: &str, now: Timestamp) -> Result<bool> {
        Ok(self.mark_sent_all(&[id], owner, now).await? == 1)
    }

    /// Marks messages sent, those of them `owner` still holds, in a few statements whatever
    /// their number: the sender records a round of results while its connections wait.
    /// Returns how many were marked.
    pub async fn mark_sent_all(&mut self, ids: &[i64], owner: &str, now: Timestamp) -> Result<u64> {
        let mut done = 0;
        for chunk in ids.chunks(super::params::CHUNK) {
            // The body holds the invitation link: once delivered it is not kept, so the
            // database never holds a usable link for longer than it must.
            let empty = Vec::<u8>::new();
            let marked: Vec<i64> = match &mut self.inner {
                TxInner::Sqlite(t) => {
                    sqlx::query_scalar(
                        "UPDATE outbox SET state = 'sent', sent_at = $2, lease_until = NULL,
                        last_error = NULL, raw = $4, draft = NULL
                     WHERE id IN (SELECT value FROM json_each($1))
                       AND lease_owner = $3 AND state = 'queued'
                     RETURNING id",
                    )
                    .bind(json_rows(chunk, |id| *id))
                    .bind(now.0)
                    .bind(owner)
                    .bind(empty)
                    .fetch_all(&mut **t)
                    .await?
                }
                TxInner::Postgres(t) => {
                    sqlx::query_scalar(
                        "UPDATE outbox SET state = 'sent', sent_at = $2, lease_until = NULL,
                        last_error = NULL, raw = $4, draft = NULL
                     WHERE id = ANY($1) AND lease_owner = $3 AND state = 'queued'
                     RETURNING id",
                    )
                    .bind(chunk)
                    .bind(now.0)
                    .bind(owner)
                    .bind(empty)
                    .fetch_all(&mut **t)
                    .await?
                }
            };
            done += marked.len() as u64;
            self.each_id(
                &marked,
                now,
                "UPDATE invitations SET sent_at = $2
                 WHERE outbox_id IN (SELECT value FROM json_each($1))",
                "UPDATE invitations SET sent_at = $2 WHERE outbox_id = ANY($1)",
            )
            .await?;
        }
        Ok(done)
    }

    /// A transient failure: due again at `next_at`.
    pub async fn mark_retry(
        &mut self,
        id: i64,
        owner: &str,
        next_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $3, lease_until = NULL, last_error = $4
                 WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
            )
            .bind(id)
            .bind(owner)
            .bind(next_at.0)
            .bind(error)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A permanent failure: kept with the server's reply, never retried by itself.
    pub async fn mark_failed(&mut self, id: i64, owner: &str, error: &str) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE outbox SET state = 'failed', lease_until = NULL, last_error = $3
                 WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
            )
            .bind(id)
            .bind(owner)
            .bind(error)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Makes every queued message of the account due now, skipping retry delays (leases
    /// still hold, so a message being sent is not sent twice).
    pub async fn make_due_now(&mut self, account_id: i64, now: Timestamp) -> Result<u64> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $2
                 WHERE account_id = $1 AND state = 'queued' AND next_attempt_at > $2",
            )
            .bind(account_id)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// Puts failed messages back in the queue (all of them, or the one with `id`), with
    /// their attempts counted from zero again.
    pub async fn requeue_failed(
        &mut self,
        account_id: i64,
        id: Option<i64>,
        now: Timestamp,
    ) -> Result<u64> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE outbox SET state = 'queued', next_attempt_at = $2, attempts = 0,
                    lease_until = NULL, last_error = NULL
                 WHERE account_id = $1 AND state = 'failed' AND ($3 = 0 OR id = $3)",
            )
            .bind(account_id)
            .bind(now.0)
            .bind(id.unwrap_or(0))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// Withdraws a message that has not left yet (its invitation was resent or revoked).
    pub async fn cancel_message(&mut self, id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE outbox SET state = 'cancelled' WHERE id = $1 AND state = 'queued'")
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The newest messages first.
    pub async fn list_outbox(&mut self, account_id: i64, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, OutboxRow>(
                "SELECT id, kind, message_id, env_to, subject, state, attempts, next_attempt_at,
                    last_error, created_at, sent_at
                 FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(account_id)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(OutboxMessage {
                    state: r
                        .state
                        .parse()
                        .map_err(|e: crate::domain::types::UnknownValue| {
                            Error::invalid("state", e.to_string())
                        })?,
                    id: r.id,
                    kind: r.kind,
                    message_id: r.message_id,
                    env_to: r.env_to,
                    subject: r.subject,
                    attempts: r.attempts,
                    next_attempt_at: r.next_attempt_at,
                    last_error: r.last_error,
                    created_at: r.created_at,
                    sent_at: r.sent_at,
                })
            })
            .collect()
    }

    /// The stored message, exactly as it will be sent (empty once sent: see `mark_sent`).
    pub async fn outbox_raw(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        let raw = on_tx!(self, |c| {
            sqlx::query_scalar::<_, Vec<u8>>("SELECT raw FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        Ok(raw)
    }

    pub async fn outbox_counts(&mut self, account_id: i64) -> Result<OutboxCounts> {
        let rows: Vec<(String, i64)> = on_tx!(self, |c| {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT state, COUNT(*) FROM outbox WHERE account_id = $1 GROUP BY state",
            )
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        // An import's mail that the sender has yet to draft is queued all the same.
        let undrafted = self.undrafted_count(account_id).await?;
        let mut counts = OutboxCounts {
            queued: undrafted,
            undrafted,
            ..Default::default()
        };
        for (state, n) in rows {
            match state.as_str() {
                "queued" => counts.queued += n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// When the next queued message falls due, if any (for a sender deciding how long to sleep).
    pub async fn next_due_at(&mut self) -> Result<Option<i64>> {
        let at = on_tx!(self, |c| {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MIN(CASE WHEN lease_until IS NULL OR lease_until < next_attempt_at
                                 THEN next_attempt_at ELSE lease_until END)
                 FROM outbox WHERE state = 'queued'",
            )
            .fetch_one(c)
            .await
        })?;
        Ok(at)
    }

    /// Stores what the drafts of one import share (`mail::draft::DraftBase`, as JSON);
    /// returns its id, which each of those drafts names.
    pub async fn insert_draft_base(
        &mut self,
        account_id: i64,
        shared: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO draft_bases (account_id, shared, created_at) VALUES ($1, $2, $3)
                 RETURNING id",
            )
            .bind(account_id)
            .bind(shared)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// A draft base's JSON, if there is one by that id.
    pub async fn draft_base(&mut self, id: i64) -> Result<Option<String>> {
        let shared = on_tx!(self, |c| {
            sqlx::query_scalar::<_, String>("SELECT shared FROM draft_bases WHERE id = $1")
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        Ok(shared)
    }
}
