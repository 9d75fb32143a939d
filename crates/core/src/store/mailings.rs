//! Mailings: an import's invitation mail, drafted into the outbox by the sender a batch
//! at a time rather than by the import (migration 0016). A mailing is the import's draft
//! base, naming its batch and the range of invitation ids still to draft; each of those
//! invitations keeps its link's token (`draft_token`) until its draft is written.

use super::{Tx, TxInner, on_tx};
use crate::error::Result;

/// A mailing with invitations left to draft.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mailing {
    /// The draft base's id, which its drafts name.
    pub id: i64,
    pub account_id: i64,
    pub import_batch_id: i64,
    /// The lowest invitation id not yet looked at.
    pub next_invitation: i64,
    pub last_invitation: i64,
    /// The base's JSON (`mail::draft::DraftBase`).
    pub shared: String,
}

/// An invitation whose mail is still to be drafted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Undrafted {
    pub id: i64,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub draft_token: String,
    pub status: String,
}

/// The oldest mailing with invitations left to draft, then `$lock`.
macro_rules! next_mailing {
    ($lock:literal) => {
        concat!(
            "SELECT id, account_id, import_batch_id, next_invitation, last_invitation, shared
             FROM draft_bases WHERE next_invitation IS NOT NULL ORDER BY id LIMIT 1",
            $lock
        )
    };
}

// Locked until commit: a second sender skips to another mailing instead of drafting the
// same invitations twice.
const NEXT_POSTGRES: &str = next_mailing!(" FOR UPDATE SKIP LOCKED");

// When every mailing is being drafted by another sender: wait for the oldest, and get
// it as that sender left it (or nothing, if it drafted the last of it).
const NEXT_POSTGRES_WAIT: &str = next_mailing!(" FOR UPDATE");

impl Tx {
    /// Makes a draft base the mailing of `batch`, whose invitations are the ids `first`
    /// to `last` that name it.
    pub async fn start_mailing(
        &mut self,
        base: i64,
        batch: i64,
        first: i64,
        last: i64,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE draft_bases SET import_batch_id = $2, next_invitation = $3,
                    last_invitation = $4
                 WHERE id = $1",
            )
            .bind(base)
            .bind(batch)
            .bind(first)
            .bind(last)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The oldest mailing with invitations left to draft that no other sender is
    /// drafting; if all are, the oldest once its sender is done with it. Without the
    /// wait, a sender that found nothing drafted and the mailing locked would think the
    /// queue empty and stop, leaving one sender to send it all.
    pub async fn next_mailing(&mut self) -> Result<Option<Mailing>> {
        // SQLite has one writer: no other sender is drafting.
        let t = match &mut self.inner {
            TxInner::Sqlite(t) => {
                let m = sqlx::query_as(next_mailing!("")).fetch_optional(&mut **t);
                return Ok(m.await?);
            }
            TxInner::Postgres(t) => t,
        };
        let free = sqlx::query_as(NEXT_POSTGRES)
            .fetch_optional(&mut **t)
            .await?;
        if free.is_some() {
            return Ok(free);
        }
        Ok(sqlx::query_as(NEXT_POSTGRES_WAIT)
            .fetch_optional(&mut **t)
            .await?)
    }

    /// The invitations of `batch` with ids `from` to `to` whose mail is still to be
    /// drafted, in id order. A window of ids, not a LIMIT: right after an import the
    /// table's statistics are stale, and PostgreSQL then planned the LIMIT query as a
    /// bitmap scan of the whole mailing (0.7 s a call at a million). The status is the
    /// caller's to check, so that no index but the primary key's is worth considering.
    pub async fn undrafted(&mut self, batch: i64, from: i64, to: i64) -> Result<Vec<Undrafted>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Undrafted>(
                "SELECT id, email_display, first_name, last_name, draft_token, status
                 FROM invitations
                 WHERE id >= $1 AND id <= $2 AND import_batch_id = $3
                   AND draft_token IS NOT NULL
                 ORDER BY id",
            )
            .bind(from)
            .bind(to)
            .bind(batch)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Moves a mailing on to `next`, or ends it (None).
    pub async fn advance_mailing(&mut self, id: i64, next: Option<i64>) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE draft_bases SET next_invitation = $2 WHERE id = $1")
                .bind(id)
                .bind(next)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Ends an import's mailing: nothing more of it is drafted (undo).
    pub async fn stop_mailing(&mut self, batch: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE draft_bases SET next_invitation = NULL WHERE import_batch_id = $1")
                .bind(batch)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// How many of the account's invitations wait for their mail to be drafted: queued
    /// mail that the outbox does not show yet. Each mailing counts along its id range.
    pub async fn undrafted_count(&mut self, account_id: i64) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM((
                    SELECT COUNT(*) FROM invitations i
                    WHERE i.id >= b.next_invitation AND i.id <= b.last_invitation
                      AND i.import_batch_id = b.import_batch_id
                      AND i.awaiting_draft)), 0) AS BIGINT)
                 FROM draft_bases b
                 WHERE b.account_id = $1 AND b.next_invitation IS NOT NULL",
            )
            .bind(account_id)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }
}
