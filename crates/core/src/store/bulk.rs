//! Writes for a million rows. One statement per row manages about 10k rows/s on SQLite;
//! a chunk of 10,000 rows per statement goes 10-20 times faster on both backends. SQLite
//! takes each chunk as one JSON array (`jsonb_each`, parsed once into its binary form);
//! PostgreSQL takes one array per column (`UNNEST`), sent in binary, so that nothing is
//! escaped, parsed or re-scanned per field: its JSON path spent a fifth of a million-row
//! apply re-reading the text of each row once per field.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use super::outbox::NewDraft;
use super::params::{CHUNK, column, json_rows};
use super::{Tx, TxInner};
use crate::domain::{Timestamp, UserType};
use crate::error::Result;

/// An invitation for a bulk insert.
#[derive(Debug, Clone)]
pub struct BulkInvitation {
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub unique_ref: Option<String>,
    pub user_type: UserType,
    pub token_hash: String,
    /// The link's token, kept until the invitation's mail is drafted (see `mailings`).
    pub draft_token: String,
}

/// What one bulk insert of invitations wrote: how many, and the lowest and highest id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub ids: Option<(i64, i64)>,
}

impl Written {
    pub fn add(&mut self, o: Written) {
        self.rows += o.rows;
        self.ids = match (self.ids, o.ids) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (a, b) => a.or(b),
        };
    }
}

/// What every row of one bulk insert shares.
struct Shared<'a> {
    account_id: i64,
    now: Timestamp,
    /// Drafts: the envelope sender. Invitations: the inviter.
    who: &'a str,
}

/// What every invitation of one import shares besides (not `imports::Batch`, the stored
/// record).
struct InvitationBatch {
    id: i64,
    expires_at: Timestamp,
}

impl Tx {
    /// Queues drafts; returns each one's outbox id by Message-ID.
    pub async fn insert_drafts(
        &mut self,
        account_id: i64,
        env_from: &str,
        drafts: &[NewDraft],
        now: Timestamp,
    ) -> Result<HashMap<String, i64>> {
        let shared = Shared {
            account_id,
            now,
            who: env_from,
        };
        let mut ids = HashMap::with_capacity(drafts.len());
        for chunk in drafts.chunks(CHUNK) {
            let back = match &mut self.inner {
                TxInner::Sqlite(t) => sqlite_drafts(t, &shared, chunk).await?,
                TxInner::Postgres(t) => postgres_drafts(t, &shared, chunk).await?,
            };
            ids.extend(back.into_iter().map(|(id, mid)| (mid, id)));
        }
        Ok(ids)
    }

    /// Inserts an import's pending invitations, their mail still to be drafted.
    pub async fn insert_invitations_bulk(
        &mut self,
        account_id: i64,
        batch_id: i64,
        inviter: &str,
        invitations: &[BulkInvitation],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Written> {
        let shared = Shared {
            account_id,
            now,
            who: inviter,
        };
        let batch = InvitationBatch {
            id: batch_id,
            expires_at,
        };
        let mut written = Written::default();
        for chunk in invitations.chunks(CHUNK) {
            written.add(match &mut self.inner {
                TxInner::Sqlite(t) => sqlite_invitations(t, &shared, &batch, chunk).await?,
                TxInner::Postgres(t) => postgres_invitations(t, &shared, &batch, chunk).await?,
            });
        }
        Ok(written)
    }

    /// Records the drafts of invitations, as (invitation id, outbox id): each names its
    /// message and forgets its token.
    pub async fn set_drafted(&mut self, drafted: &[(i64, i64)]) -> Result<()> {
        for chunk in drafted.chunks(CHUNK) {
            match &mut self.inner {
                TxInner::Sqlite(t) => {
                    sqlx::query(
                        "UPDATE invitations SET outbox_id = CAST(j.value ->> 1 AS INTEGER),
                            draft_token = NULL
                         FROM jsonb_each($1) AS j
                         WHERE invitations.id = CAST(j.value ->> 0 AS INTEGER)",
                    )
                    .bind(json_rows(chunk, |d| *d))
                    .execute(&mut **t)
                    .await?;
                }
                TxInner::Postgres(t) => {
                    sqlx::query(
                        "UPDATE invitations i SET outbox_id = d.outbox_id, draft_token = NULL
                         FROM UNNEST($1::int8[], $2::int8[]) AS d(id, outbox_id)
                         WHERE i.id = d.id",
                    )
                    .bind(column(chunk, |d| d.0))
                    .bind(column(chunk, |d| d.1))
                    .execute(&mut **t)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

async fn sqlite_drafts(
    t: &mut Transaction<'static, sqlx::Sqlite>,
    s: &Shared<'_>,
    chunk: &[NewDraft],
) -> Result<Vec<(i64, String)>> {
    let json = json_rows(chunk, |d| (&d.message_id, &d.env_to, &d.subject, &d.draft));
    Ok(sqlx::query_as(
        "INSERT INTO outbox (account_id, kind, message_id, env_from, env_to, subject, raw,
            draft, state, attempts, next_attempt_at, created_at)
         SELECT $1, 'invitation', j.value ->> 0, $2, j.value ->> 1, j.value ->> 2, $3,
            j.value ->> 3, 'queued', 0, $4, $4
         FROM jsonb_each($5) AS j
         RETURNING id, message_id",
    )
    .bind(s.account_id)
    .bind(s.who)
    .bind(Vec::<u8>::new())
    .bind(s.now.0)
    .bind(&json)
    .fetch_all(&mut **t)
    .await?)
}

async fn postgres_drafts(
    t: &mut Transaction<'static, Postgres>,
    s: &Shared<'_>,
    chunk: &[NewDraft],
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "INSERT INTO outbox (account_id, kind, message_id, env_from, env_to, subject, raw,
            draft, state, attempts, next_attempt_at, created_at)
         SELECT $1, 'invitation', d.message_id, $2, d.env_to, d.subject, $3, d.draft,
            'queued', 0, $4, $4
         FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[])
            AS d(message_id, env_to, subject, draft)
         RETURNING id, message_id",
    )
    .bind(s.account_id)
    .bind(s.who)
    .bind(Vec::<u8>::new())
    .bind(s.now.0)
    .bind(column(chunk, |d| d.message_id.as_str()))
    .bind(column(chunk, |d| d.env_to.as_str()))
    .bind(column(chunk, |d| d.subject.as_str()))
    .bind(column(chunk, |d| d.draft.as_str()))
    .fetch_all(&mut **t)
    .await?)
}

async fn sqlite_invitations(
    t: &mut Transaction<'static, sqlx::Sqlite>,
    s: &Shared<'_>,
    b: &InvitationBatch,
    chunk: &[BulkInvitation],
) -> Result<Written> {
    let json = json_rows(chunk, |i| {
        (
            &i.email,
            &i.email_display,
            &i.first_name,
            &i.last_name,
            i.user_type.as_str(),
            &i.token_hash,
            &i.draft_token,
            &i.unique_ref,
        )
    });
    let done = sqlx::query(
        "INSERT INTO invitations (account_id, email, email_display, first_name, last_name,
            user_type, inviter, token_hash, status, created_at, expires_at, draft_token,
            import_batch_id, unique_ref)
         SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
            j.value ->> 4, $2, j.value ->> 5, 'pending', $3, $4, j.value ->> 6, $6,
            j.value ->> 7
         FROM jsonb_each($5) AS j",
    )
    .bind(s.account_id)
    .bind(s.who)
    .bind(s.now.0)
    .bind(b.expires_at.0)
    .bind(&json)
    .bind(b.id)
    .execute(&mut **t)
    .await?;
    // One statement's rows take consecutive rowids after the largest (SQLite's rule for an
    // INTEGER PRIMARY KEY below its maximum), and this transaction is the only writer.
    let rows = done.rows_affected();
    let last = done.last_insert_rowid();
    Ok(Written {
        rows,
        ids: (rows > 0).then(|| (last - rows as i64 + 1, last)),
    })
}

async fn postgres_invitations(
    t: &mut Transaction<'static, Postgres>,
    s: &Shared<'_>,
    b: &InvitationBatch,
    chunk: &[BulkInvitation],
) -> Result<Written> {
    let (rows, first, last): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "WITH written AS (
            INSERT INTO invitations (account_id, email, email_display, first_name, last_name,
                user_type, inviter, token_hash, status, created_at, expires_at, draft_token,
                import_batch_id, unique_ref)
             SELECT $1, r.email, r.email_display, r.first_name, r.last_name, r.user_type, $2,
                r.token_hash, 'pending', $3, $4, r.draft_token, $5, r.unique_ref
             FROM UNNEST($6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                $11::text[], $12::text[], $13::text[])
                AS r(email, email_display, first_name, last_name, user_type, token_hash,
                    draft_token, unique_ref)
             RETURNING id)
         SELECT COUNT(*), MIN(id), MAX(id) FROM written",
    )
    .bind(s.account_id)
    .bind(s.who)
    .bind(s.now.0)
    .bind(b.expires_at.0)
    .bind(b.id)
    .bind(column(chunk, |i| i.email.as_str()))
    .bind(column(chunk, |i| i.email_display.as_str()))
    .bind(column(chunk, |i| i.first_name.as_str()))
    .bind(column(chunk, |i| i.last_name.as_str()))
    .bind(column(chunk, |i| i.user_type.as_str()))
    .bind(column(chunk, |i| i.token_hash.as_str()))
    .bind(column(chunk, |i| i.draft_token.as_str()))
    .bind(column(chunk, |i| i.unique_ref.as_deref()))
    .fetch_one(&mut **t)
    .await?;
    Ok(Written {
        rows: rows as u64,
        ids: first.zip(last),
    })
}
