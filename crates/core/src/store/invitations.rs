//! Invitations. `expired` is not stored: a pending invitation past `expires_at` is
//! expired, decided with the injected clock at read time.

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::types::UnknownValue;
use crate::domain::{DeliveryState, InvitationStatus, Timestamp, UserType};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    /// The file's reference for the person (an import's), handed to the user who enrols.
    pub unique_ref: Option<String>,
    pub user_type: UserType,
    pub inviter: String,
    pub status: InvitationStatus,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub declined_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub resend_count: i64,
    pub outbox_id: Option<i64>,
    pub delivery: Option<DeliveryState>,
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct InvitationRow {
    id: i64,
    account_id: i64,
    email: String,
    email_display: String,
    first_name: String,
    last_name: String,
    unique_ref: Option<String>,
    user_type: String,
    inviter: String,
    status: String,
    created_at: i64,
    sent_at: Option<i64>,
    expires_at: i64,
    accepted_at: Option<i64>,
    declined_at: Option<i64>,
    revoked_at: Option<i64>,
    resend_count: i64,
    outbox_id: Option<i64>,
    delivery: Option<String>,
    last_error: Option<String>,
}

fn bad(field: &'static str) -> impl Fn(UnknownValue) -> Error {
    move |e| Error::invalid(field, e.to_string())
}

impl InvitationRow {
    fn into_invitation(self, now: Timestamp) -> Result<Invitation> {
        Ok(Invitation {
            status: InvitationStatus::effective(&self.status, self.expires_at, now.0)
                .map_err(bad("status"))?,
            user_type: self.user_type.parse().map_err(bad("user_type"))?,
            delivery: self
                .delivery
                .map(|d| d.parse())
                .transpose()
                .map_err(bad("delivery"))?,
            id: self.id,
            account_id: self.account_id,
            email: self.email,
            email_display: self.email_display,
            first_name: self.first_name,
            last_name: self.last_name,
            unique_ref: self.unique_ref,
            inviter: self.inviter,
            created_at: self.created_at,
            sent_at: self.sent_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
            declined_at: self.declined_at,
            revoked_at: self.revoked_at,
            resend_count: self.resend_count,
            outbox_id: self.outbox_id,
            last_error: self.last_error,
        })
    }
}

pub(super) fn convert(rows: Vec<InvitationRow>, now: Timestamp) -> Result<Vec<Invitation>> {
    rows.into_iter().map(|r| r.into_invitation(now)).collect()
}

macro_rules! select_invitations {
    ($rest:literal) => {
        concat!(
            "SELECT i.id, i.account_id, i.email, i.email_display, i.first_name, i.last_name,
                i.unique_ref, i.user_type, i.inviter, i.status, i.created_at, i.sent_at,
                i.expires_at, i.accepted_at, i.declined_at, i.revoked_at, i.resend_count, i.outbox_id,
                COALESCE(o.state, CASE WHEN i.awaiting_draft THEN 'queued' END)
                    AS delivery,
                o.last_error
             FROM invitations i LEFT JOIN outbox o ON o.id = i.outbox_id",
            $rest
        )
    };
}
pub(super) use select_invitations;

#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub account_id: i64,
    pub email: &'a str,
    pub email_display: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub user_type: UserType,
    pub inviter: &'a str,
    pub token_hash: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// Which invitations to list.
#[derive(Debug, Clone, Default)]
pub struct InvitationFilter {
    pub status: Option<InvitationStatus>,
    /// Part of the address or name, any case.
    pub search: String,
    /// Keyset paging: only ids below this (newest first); 0 for the first page.
    pub before_id: i64,
    pub limit: i64,
}

impl Tx {
    pub async fn insert_invitation(&mut self, n: &NewInvitation<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO invitations (account_id, email, email_display, first_name, last_name,
                    user_type, inviter, token_hash, status, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10) RETURNING id",
            )
            .bind(n.account_id)
            .bind(n.email)
            .bind(n.email_display)
            .bind(n.first_name)
            .bind(n.last_name)
            .bind(n.user_type.as_str())
            .bind(n.inviter)
            .bind(n.token_hash)
            .bind(n.now.0)
            .bind(n.expires_at.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    pub async fn invitation(
        &mut self,
        account_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<Invitation>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.account_id = $1 AND i.id = $2"
            ))
            .bind(account_id)
            .bind(id)
            .fetch_optional(c)
            .await
        })?;
        row.map(|r| r.into_invitation(now)).transpose()
    }

    /// The invitation a link's token belongs to, whatever its state.
    pub async fn invitation_by_token_hash(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Invitation>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(" WHERE i.token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(c)
                .await
        })?;
        row.map(|r| r.into_invitation(now)).transpose()
    }

    /// The open (pending, possibly expired) invitation for an address, else the newest.
    pub async fn invitation_for_email(
        &mut self,
        account_id: i64,
        email: &str,
        now: Timestamp,
    ) -> Result<Option<Invitation>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.account_id = $1 AND i.email = $2
                  ORDER BY CASE WHEN i.status = 'pending' THEN 0 ELSE 1 END, i.id DESC LIMIT 1"
            ))
            .bind(account_id)
            .bind(email)
            .fetch_optional(c)
            .await
        })?;
        row.map(|r| r.into_invitation(now)).transpose()
    }

    pub async fn list_invitations(
        &mut self,
        account_id: i64,
        f: &InvitationFilter,
        now: Timestamp,
    ) -> Result<Vec<Invitation>> {
        let status = f.status.map(InvitationStatus::as_str).unwrap_or("");
        let pattern = format!("%{}%", super::users::escape_like(&f.search.to_lowercase()));
        let limit = if f.limit > 0 { f.limit } else { i64::MAX };
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.account_id = $1
                  AND ($2 = ''
                       OR ($2 = 'expired' AND i.status = 'pending' AND i.expires_at <= $3)
                       OR ($2 = 'pending' AND i.status = 'pending' AND i.expires_at > $3)
                       OR ($2 NOT IN ('pending', 'expired') AND i.status = $2))
                  AND ($4 = '%%' OR i.email LIKE $4 ESCAPE '\\'
                       OR lower(i.first_name || ' ' || i.last_name) LIKE $4 ESCAPE '\\')
                  AND ($5 = 0 OR i.id < $5)
                  ORDER BY i.id DESC LIMIT $6"
            ))
            .bind(account_id)
            .bind(status)
            .bind(now.0)
            .bind(&pattern)
            .bind(f.before_id)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        convert(rows, now)
    }

    /// Professional invitations that hold a seat: pending and not yet expired.
    pub async fn count_pending_professional(
        &mut self,
        account_id: i64,
        now: Timestamp,
    ) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM invitations
                 WHERE account_id = $1 AND status = 'pending' AND user_type = 'professional'
                   AND expires_at > $2",
            )
            .bind(account_id)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }

    pub async fn count_pending(&mut self, account_id: i64, now: Timestamp) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM invitations
                 WHERE account_id = $1 AND status = 'pending' AND expires_at > $2",
            )
            .bind(account_id)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }

    /// Ids of pending invitations whose time has run out.
    pub async fn expired_invitation_ids(
        &mut self,
        account_id: i64,
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let ids = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM invitations
                 WHERE account_id = $1 AND status = 'pending' AND expires_at <= $2 ORDER BY id",
            )
            .bind(account_id)
            .bind(now.0)
            .fetch_all(c)
            .await
        })?;
        Ok(ids)
    }

    /// A resend: new token, new validity window, counted. The old link stops working
    /// because only the new token's hash is kept; an import's mailing no longer drafts it.
    pub async fn renew_invitation(
        &mut self,
        id: i64,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE invitations SET token_hash = $2, expires_at = $3, sent_at = NULL, reminded_at = NULL,
                    resend_count = resend_count + 1, draft_token = NULL
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(token_hash)
            .bind(expires_at.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn set_invitation_outbox(&mut self, id: i64, outbox_id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE invitations SET outbox_id = $2 WHERE id = $1")
                .bind(id)
                .bind(outbox_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn revoke_invitation(&mut self, id: i64, now: Timestamp) -> Result<bool> {
        let done = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE invitations SET status = 'revoked', revoked_at = $2, draft_token = NULL
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Takes a pending, unexpired invitation to `accepted` or `declined`; false when
    /// another request got there first (the link is used once, whatever the race).
    pub async fn answer_invitation(
        &mut self,
        id: i64,
        accept: bool,
        now: Timestamp,
    ) -> Result<bool> {
        let done = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE invitations SET
                    status = CASE WHEN $2 THEN 'accepted' ELSE 'declined' END,
                    accepted_at = CASE WHEN $2 THEN $3 ELSE accepted_at END,
                    declined_at = CASE WHEN $2 THEN declined_at ELSE $3 END
                 WHERE id = $1 AND status = 'pending' AND expires_at > $3",
            )
            .bind(id)
            .bind(accept)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Pending invitations, already mailed and not yet reminded, that expire between `now`
    /// and `until`: the ones a reminder is due for.
    pub async fn invitations_to_remind(
        &mut self,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<Invitation>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.status = 'pending' AND i.reminded_at IS NULL AND i.sent_at IS NOT NULL
                    AND i.expires_at > $1 AND i.expires_at <= $2
                  ORDER BY i.expires_at, i.id LIMIT $3"
            ))
            .bind(now.0)
            .bind(until.0)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        convert(rows, now)
    }

    /// Gives a reminded invitation its new token. False when another server reminded it
    /// first, or it was answered meanwhile.
    pub async fn mark_reminded(
        &mut self,
        id: i64,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let n = on_tx!(self, |c| {
            sqlx::query(
                "UPDATE invitations SET token_hash = $2, reminded_at = $3
                 WHERE id = $1 AND status = 'pending' AND reminded_at IS NULL",
            )
            .bind(id)
            .bind(token_hash)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Grants promised to an invitation become the new user's.
    pub async fn move_invitation_grants(
        &mut self,
        invitation_id: i64,
        user_id: i64,
    ) -> Result<u64> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE grants SET user_id = $2, invitation_id = NULL WHERE invitation_id = $1",
            )
            .bind(invitation_id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(Into::into)
    }
}
