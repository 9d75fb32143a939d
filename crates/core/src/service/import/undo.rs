//! Undoing an import: its invitations still pending are revoked (with their mail), and
//! its changes to users and to pending invitations reverted (the invitations it revoked
//! pending again), last first, a page at a time. Runs of updates, of
//! suspensions and of removals are reverted a run at a time (`edits`); the other
//! changes, which touch grants and mailboxes, one at a time.

use serde::Serialize;
use serde_json::json;

use super::edits::{reactivate, restore};
use super::options::said;
use super::pending::restore_invitations;
use super::workbook::grant_from_json;
use crate::domain::{Permission, Timestamp};
use crate::error::{Clash, Error, Result};
use crate::service::Usher;
use crate::store::{Change, Holder, Tx};

/// Changes read at a time.
const PAGE: i64 = 5_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct UndoOutcome {
    pub revoked: usize,
    /// Users the import had created, removed again.
    pub deleted: usize,
    pub restored: usize,
    pub reactivated: usize,
    /// Pending invitations the import had revoked (replaced, or missing from the file),
    /// pending again.
    pub reopened: usize,
    /// Pending invitations whose names, type or reference the import had changed, as
    /// they were.
    pub invitations_restored: usize,
    /// Changes left as they are because the data moved on (an invitation already
    /// accepted, a grant whose role or mailbox was deleted since).
    pub kept: usize,
}

impl UndoOutcome {
    /// What the undo did, in one line (the console's and the command line's report):
    /// the counts that are not zero.
    pub fn summary(&self) -> String {
        let parts = said(
            &[
                (self.revoked, "invitations revoked"),
                (self.deleted, "created users removed"),
                (self.restored, "users restored"),
                (self.reactivated, "users reactivated"),
                (self.reopened, "revoked invitations pending again"),
                (self.invitations_restored, "changed invitations restored"),
                (self.kept, "changes left as they are (the data moved on)"),
            ],
            true,
        );
        if parts.is_empty() {
            "nothing to revert".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// An import change's saved state, as JSON.
fn before_of(c: &Change) -> serde_json::Value {
    serde_json::from_str(&c.before).unwrap_or_default()
}

impl Usher {
    /// Reverts an import: revokes the invitations it sent that are still pending, restores
    /// the users it changed, reactivates those it suspended, brings back those it removed.
    pub async fn import_undo(&self, batch_id: i64) -> Result<UndoOutcome> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ImportUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let batch = tx
            .batches(account.id, i64::MAX)
            .await?
            .into_iter()
            .find(|b| b.id == batch_id)
            .ok_or_else(|| Error::NotFound(format!("import {batch_id}")))?;
        if batch.undone_at.is_some() {
            return Err(Error::conflict(
                Clash::State,
                format!("import {batch_id} was already undone"),
            ));
        }
        let (revoked, kept) = tx.revoke_batch_invitations(batch_id, now).await?;
        let mut out = UndoOutcome {
            revoked: revoked as usize,
            kept: kept as usize,
            ..UndoOutcome::default()
        };
        let applied = Timestamp(batch.at);
        let mut before = i64::MAX;
        loop {
            let page = tx.batch_changes(batch_id, before, PAGE).await?;
            let Some(last) = page.last() else { break };
            before = last.id;
            // In order, a run of one kind at a time.
            for run in page.chunk_by(|a, b| a.kind == b.kind) {
                match run.first().map(|c| c.kind.as_str()) {
                    Some("update" | "remove") => {
                        out.restored += restore(&mut tx, account.id, run, now).await?
                    }
                    Some("suspend") => {
                        out.reactivated += reactivate(&mut tx, account.id, run, now).await?;
                    }
                    Some("revoke") => {
                        out.reopened += restore_invitations(&mut tx, run, applied).await?;
                    }
                    Some("invitation") => {
                        out.invitations_restored +=
                            restore_invitations(&mut tx, run, applied).await?;
                    }
                    _ => {
                        for c in run {
                            self.undo_one(&mut tx, account.id, c, now, &mut out).await?;
                        }
                    }
                }
            }
        }
        tx.mark_batch_undone(batch_id, now).await?;
        // A sync's run undone: those it suspended are no longer its to bring back.
        tx.drop_sync_holds_of_batch(batch_id).await?;
        self.record(
            &mut tx,
            now,
            "import.undo",
            &format!("import:{batch_id} {}", batch.file_name),
            json!(out),
        )
        .await?;
        tx.commit().await?;
        self.after_import("import.undo", batch_id).await;
        Ok(out)
    }

    /// Reverts one change that is not an update, a suspension or a removal.
    async fn undo_one(
        &self,
        tx: &mut Tx,
        account_id: i64,
        c: &Change,
        now: Timestamp,
        out: &mut UndoOutcome,
    ) -> Result<()> {
        match c.kind.as_str() {
            "create" => {
                let Some(id) = c.user_id else { return Ok(()) };
                if tx.user_by_id(account_id, id).await?.is_some() {
                    tx.delete_user(id).await?;
                    out.deleted += 1;
                }
            }
            "grant" => {
                if let (Some(id), Some((g, m))) = (c.user_id, grant_from_json(&before_of(c))) {
                    tx.delete_grant(Holder::User(id), &g, m).await?;
                }
            }
            // What went with a removed user: their grants, and their profile.
            "regrant" => {
                let Some(id) = c.user_id else { return Ok(()) };
                let kept = before_of(c);
                if let Some(p) = kept.get("profile") {
                    let field = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
                    tx.set_user_profile(id, &field("timezone"), &field("phone"))
                        .await?;
                }
                if let Some(list) = kept["grants"].as_array() {
                    for (g, m) in list.iter().filter_map(grant_from_json) {
                        // A role or mailbox deleted since is not brought back for it.
                        if !tx
                            .restore_grant(account_id, id, &g, m, &self.actor.name, now)
                            .await?
                        {
                            out.kept += 1;
                        }
                    }
                }
            }
            "mailbox" => {
                if let Some(m) = before_of(c)["mailbox_id"].as_i64() {
                    tx.delete_mailbox(m).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
