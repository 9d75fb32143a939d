//! An import's work on pending invitations: reading them as its plan needs them, and
//! changing, revoking and (for undo) reopening many at once. A second export of a
//! million people may touch as many invitations as users, so these go a chunk at a time
//! like the users' (`bulk_edits`).

use serde::{Deserialize, Serialize};

use super::params::{CHUNK, column, json_rows};
use super::{Tx, TxInner, on_tx};
use crate::domain::{Timestamp, UserType};
use crate::error::{Error, Result};
pub use crate::import::plan::PendingRow;

/// What an import may change on a pending invitation in place (its address never: a new
/// address gets a new invitation, and so a new link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationEdit {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub unique_ref: Option<String>,
    pub user_type: UserType,
}

/// How an import revoked or reopens invitations: the ids, and the time of the import
/// (the revocation's time, so that undo reopens only what that import revoked).
#[derive(Debug, Clone, Copy)]
pub struct Revocation<'a> {
    pub ids: &'a [i64],
    pub at: Timestamp,
}

type Pending = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

impl Tx {
    /// The account's pending invitations (expired ones too), `each` told of every one in
    /// id order. SQLite's are read 10,000 at a time as one JSON text, like the users
    /// (`import_keys`); PostgreSQL's are streamed by one statement: chunk by chunk, its
    /// planner (without statistics right after an import) read and sorted every pending
    /// invitation for each chunk, 44 s for a million.
    pub async fn pending_invitations(
        &mut self,
        account_id: i64,
        now: Timestamp,
        mut each: impl FnMut(PendingRow<'_>),
    ) -> Result<()> {
        let t = match &mut self.inner {
            TxInner::Postgres(t) => t,
            TxInner::Sqlite(_) => return self.sqlite_pending(account_id, now, each).await,
        };
        use futures::TryStreamExt;
        use sqlx::Row;
        let mut rows = sqlx::query(
            "SELECT id, email, email_display, first_name, last_name, unique_ref, user_type,
                expires_at
             FROM invitations WHERE account_id = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(account_id)
        .fetch(&mut **t);
        while let Some(r) = rows.try_next().await? {
            let id: i64 = r.try_get(0)?;
            let expires_at: i64 = r.try_get(7)?;
            each(PendingRow {
                id,
                email: r.try_get(1)?,
                email_display: r.try_get(2)?,
                first_name: r.try_get(3)?,
                last_name: r.try_get(4)?,
                unique_ref: r.try_get(5)?,
                user_type: r
                    .try_get::<&str, _>(6)?
                    .parse()
                    .map_err(|e| Error::corrupt(format!("invitation {id}"), e))?,
                expired: expires_at <= now.0,
            });
        }
        Ok(())
    }

    async fn sqlite_pending(
        &mut self,
        account_id: i64,
        now: Timestamp,
        mut each: impl FnMut(PendingRow<'_>),
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            let (json, last): (String, Option<i64>) = on_tx!(self, |c| {
                sqlx::query_as(
                    "SELECT json_group_array(json_array(id, email, email_display, first_name,
                            last_name, unique_ref, user_type, expires_at)), max(id)
                     FROM (SELECT * FROM invitations WHERE +account_id = $1
                           AND status = 'pending' AND id > $2 ORDER BY id LIMIT $3)",
                )
                .bind(account_id)
                .bind(after)
                .bind(CHUNK as i64)
                .fetch_one(c)
                .await
            })?;
            let rows: Vec<Pending> = serde_json::from_str(&json)
                .map_err(|e| Error::corrupt("the pending invitations", e))?;
            for (id, email, display, first, last, r, t, expires_at) in &rows {
                each(PendingRow {
                    id: *id,
                    email,
                    email_display: display,
                    first_name: first,
                    last_name: last,
                    unique_ref: r.as_deref(),
                    user_type: t
                        .parse()
                        .map_err(|e| Error::corrupt(format!("invitation {id}"), e))?,
                    expired: *expires_at <= now.0,
                });
            }
            match last {
                Some(id) if rows.len() == CHUNK => after = id,
                _ => return Ok(()),
            }
        }
    }

    /// Writes the names, reference and type of each of these invitations that is still
    /// pending.
    pub async fn set_invitations_fields(&mut self, edits: &[InvitationEdit]) -> Result<()> {
        for chunk in edits.chunks(CHUNK) {
            match &mut self.inner {
                TxInner::Sqlite(t) => {
                    let json = json_rows(chunk, |e| {
                        (
                            e.id,
                            &e.first_name,
                            &e.last_name,
                            &e.unique_ref,
                            e.user_type.as_str(),
                        )
                    });
                    sqlx::query(
                        "UPDATE invitations SET first_name = j.value ->> 1,
                            last_name = j.value ->> 2, unique_ref = j.value ->> 3,
                            user_type = j.value ->> 4
                         FROM jsonb_each($1) AS j
                         WHERE invitations.id = CAST(j.value ->> 0 AS INTEGER)
                           AND invitations.status = 'pending'",
                    )
                    .bind(json)
                    .execute(&mut **t)
                    .await?;
                }
                TxInner::Postgres(t) => {
                    sqlx::query(
                        "UPDATE invitations i SET first_name = d.first_name,
                            last_name = d.last_name, unique_ref = d.unique_ref,
                            user_type = d.user_type
                         FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[])
                            AS d(id, first_name, last_name, unique_ref, user_type)
                         WHERE i.id = d.id AND i.status = 'pending'",
                    )
                    .bind(column(chunk, |e| e.id))
                    .bind(column(chunk, |e| e.first_name.as_str()))
                    .bind(column(chunk, |e| e.last_name.as_str()))
                    .bind(column(chunk, |e| e.unique_ref.as_deref()))
                    .bind(column(chunk, |e| e.user_type.as_str()))
                    .execute(&mut **t)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Revokes those of these invitations that are pending, at `r.at`, and cancels their
    /// queued mail, so that their links die at once. Returns how many were revoked.
    pub async fn revoke_invitations(&mut self, r: Revocation<'_>) -> Result<u64> {
        let mut done = 0;
        for ids in r.ids.chunks(CHUNK) {
            done += self
                .each_id(
                    ids,
                    r.at,
                    "UPDATE invitations SET status = 'revoked', revoked_at = $2,
                        draft_token = NULL
                     WHERE id IN (SELECT value FROM json_each($1)) AND status = 'pending'",
                    "UPDATE invitations SET status = 'revoked', revoked_at = $2,
                        draft_token = NULL
                     WHERE id = ANY($1) AND status = 'pending'",
                )
                .await?;
            self.each_id(
                ids,
                r.at,
                "UPDATE outbox SET state = 'cancelled' WHERE state = 'queued' AND id IN (
                    SELECT outbox_id FROM invitations WHERE id IN (SELECT value FROM json_each($1))
                      AND status = 'revoked' AND revoked_at = $2)",
                "UPDATE outbox SET state = 'cancelled' WHERE state = 'queued' AND id IN (
                    SELECT outbox_id FROM invitations WHERE id = ANY($1)
                      AND status = 'revoked' AND revoked_at = $2)",
            )
            .await?;
        }
        Ok(done)
    }

    /// Undo of `revoke_invitations`: those of these invitations still revoked at `r.at`
    /// are pending again, with the mail that revoking cancelled queued again, unless
    /// their address has another pending invitation by now. Returns how many.
    pub async fn reopen_invitations(&mut self, r: Revocation<'_>) -> Result<u64> {
        let mut done = 0;
        for ids in r.ids.chunks(CHUNK) {
            done += self
                .each_id(
                    ids,
                    r.at,
                    "UPDATE invitations SET status = 'pending', revoked_at = NULL
                     WHERE id IN (SELECT value FROM json_each($1))
                       AND status = 'revoked' AND revoked_at = $2
                       AND NOT EXISTS (SELECT 1 FROM invitations o
                           WHERE o.account_id = invitations.account_id
                             AND o.email = invitations.email AND o.status = 'pending')",
                    "UPDATE invitations i SET status = 'pending', revoked_at = NULL
                     WHERE i.id = ANY($1) AND i.status = 'revoked' AND i.revoked_at = $2
                       AND NOT EXISTS (SELECT 1 FROM invitations o
                           WHERE o.account_id = i.account_id AND o.email = i.email
                             AND o.status = 'pending')",
                )
                .await?;
            self.each_id(
                ids,
                r.at,
                "UPDATE outbox SET state = 'queued' WHERE state = 'cancelled' AND id IN (
                    SELECT outbox_id FROM invitations WHERE id IN (SELECT value FROM json_each($1))
                      AND status = 'pending')",
                "UPDATE outbox SET state = 'queued' WHERE state = 'cancelled' AND id IN (
                    SELECT outbox_id FROM invitations WHERE id = ANY($1)
                      AND status = 'pending')",
            )
            .await?;
        }
        Ok(done)
    }
}
