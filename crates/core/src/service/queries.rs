//! Read-only views: lists, totals (docs/rules.md#users), outbox, audit.

use serde::Serialize;

use super::Usher;
use super::invite::seats;
use crate::domain::Permission;
use crate::domain::licence::Seats;
use crate::error::Result;
use crate::store::{
    Account, AuditEntry, Invitation, InvitationFilter, OutboxCounts, OutboxMessage, User,
};

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub account: String,
    pub users: i64,
    pub pending_invitations: i64,
    pub licences_used: i64,
    pub licences_total: i64,
    pub outbox_queued: i64,
    /// Of those queued, the invitations of imports whose mail is not drafted yet: the
    /// sender drafts it into the outbox as it goes.
    pub outbox_undrafted: i64,
    pub outbox_failed: i64,
    pub outbox_sent: i64,
    pub backend: String,
}

impl Usher {
    pub async fn status(&self) -> Result<Status> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let account: Account = self.account_in(&mut tx).await?;
        let Seats { used, total } = seats(&mut tx, &account, now).await?;
        let users = tx.count_users(account.id).await?;
        let pending = tx.count_pending(account.id, now).await?;
        let OutboxCounts {
            queued,
            undrafted,
            sent,
            failed,
        } = tx.outbox_counts(account.id).await?;
        Ok(Status {
            account: account.name,
            users,
            pending_invitations: pending,
            licences_used: used,
            licences_total: total,
            outbox_queued: queued,
            outbox_undrafted: undrafted,
            outbox_failed: failed,
            outbox_sent: sent,
            backend: self.store.backend().to_string(),
        })
    }

    pub async fn invitations(&self, filter: &InvitationFilter) -> Result<Vec<Invitation>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.list_invitations(account.id, filter, now).await
    }

    /// The invitation a link opens, only while it can still be used: pending and not
    /// expired. Anything else (unknown, expired, revoked, used) is `None`, with no hint of
    /// which, so that a link reveals nothing.
    pub async fn open_invitation_for_token(&self, token: &str) -> Result<Option<Invitation>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        super::enrol::pending_for_token(&mut tx, token, now).await
    }

    pub async fn users(&self, search: &str, after: &str, limit: i64) -> Result<Vec<User>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.list_users(account.id, search, after, false, limit).await
    }

    /// The page of users from the address `from` on (for a refresh in place).
    pub async fn users_from(&self, search: &str, from: &str, limit: i64) -> Result<Vec<User>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.list_users(account.id, search, from, true, limit).await
    }

    /// The page of users before `before` (the last page when empty), in address order.
    pub async fn users_before(&self, search: &str, before: &str, limit: i64) -> Result<Vec<User>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.list_users_before(account.id, search, before, limit)
            .await
    }

    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.list_outbox(account.id, limit).await
    }

    /// The preview of importing `parsed` into the account, from one consistent reading.
    pub async fn import_preview(
        &self,
        parsed: std::sync::Arc<crate::import::Parsed>,
    ) -> Result<crate::import::plan::Plan> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let mut state = self.account_state(&mut tx, &account, now).await?;
        let checked = self
            .check_workbook(&mut tx, &account, &parsed, &state)
            .await?;
        state.held = checked.held;
        let parsed = checked.parsed.map(std::sync::Arc::new).unwrap_or(parsed);
        drop(tx);
        // A million rows take a second or two to sort: off the async threads.
        tokio::task::spawn_blocking(move || crate::import::plan::plan(parsed, state))
            .await
            .map_err(|e| crate::error::Error::Task(e.to_string()))
    }

    /// Queued mail waiting for a retry becomes due now (the operator fixed the relay).
    pub async fn make_mail_due_now(&self) -> Result<u64> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        let n = tx.make_due_now(account.id, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Failed mail goes back in the queue: one message by id, or every failed one.
    pub async fn retry_failed_mail(&self, id: Option<i64>) -> Result<u64> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        let n = tx.requeue_failed(account.id, id, now).await?;
        if n == 0 {
            return Err(match id {
                Some(id) => crate::Error::NotFound(format!("failed message {id}")),
                None => crate::Error::NotFound("failed mail".into()),
            });
        }
        tx.append_audit(&crate::store::NewAudit {
            at: now,
            actor: &self.actor,
            action: "outbox.retry",
            target: &id.map_or_else(|| "outbox:failed".to_owned(), |id| format!("outbox:{id}")),
            details: serde_json::json!({"requeued": n}),
        })
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        tx.list_audit(0, limit).await
    }
}
