//! What the reports read a page at a time: the grants of a page of users (those with
//! addresses in a range) and of a page of invitations (an id range), and invitations by
//! id. Static statements over ranges, so that a million users take a thousand queries,
//! not a million.

use super::invitations::{InvitationRow, convert, select_invitations};
use super::{Grant, Invitation, Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

macro_rules! select_grants {
    ($rest:literal) => {
        concat!(
            "SELECT g.id, g.user_id, g.invitation_id, g.mailbox_id,
                m.address AS mailbox, g.role_id, r.name AS role, r.system AS role_system,
                g.permission, g.granted_by, g.granted_at
             FROM grants g
             LEFT JOIN roles r ON r.id = g.role_id
             LEFT JOIN mailboxes m ON m.id = g.mailbox_id",
            $rest,
            " ORDER BY m.address IS NOT NULL, m.address, r.name IS NULL, r.name, g.permission"
        )
    };
}
pub(super) use select_grants;

impl Tx {
    /// Grants held by the account's users whose address is in (`after`, `last`].
    pub async fn grants_of_users_between(
        &mut self,
        account_id: i64,
        after: &str,
        last: &str,
    ) -> Result<Vec<Grant>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Grant>(select_grants!(
                " WHERE g.user_id IN (SELECT id FROM users
                    WHERE account_id = $1 AND email > $2 AND email <= $3)"
            ))
            .bind(account_id)
            .bind(after)
            .bind(last)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Grants promised to the account's invitations with ids in (`after`, `last`].
    pub async fn grants_of_invitations_between(
        &mut self,
        account_id: i64,
        after: i64,
        last: i64,
    ) -> Result<Vec<Grant>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Grant>(select_grants!(
                " WHERE g.invitation_id IN (SELECT id FROM invitations
                    WHERE account_id = $1 AND id > $2 AND id <= $3)"
            ))
            .bind(account_id)
            .bind(after)
            .bind(last)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The invitations to addresses in (`after`, `last`], newest last.
    pub async fn invitations_between(
        &mut self,
        account_id: i64,
        after: &str,
        last: &str,
        now: Timestamp,
    ) -> Result<Vec<Invitation>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.account_id = $1 AND i.email > $2 AND i.email <= $3 ORDER BY i.id"
            ))
            .bind(account_id)
            .bind(after)
            .bind(last)
            .fetch_all(c)
            .await
        })?;
        convert(rows, now)
    }

    /// A page of the account's invitations by id.
    pub async fn invitations_after(
        &mut self,
        account_id: i64,
        after: i64,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<Invitation>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, InvitationRow>(select_invitations!(
                " WHERE i.account_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3"
            ))
            .bind(account_id)
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await
        })?;
        convert(rows, now)
    }

    pub async fn count_invitations(&mut self, account_id: i64) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM invitations WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(c)
                .await
        })?;
        Ok(n)
    }
}
