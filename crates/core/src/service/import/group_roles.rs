//! A sync's roles by group, written after its updates: each role gained granted (and
//! recorded as the source's), each role the source gave and the groups no longer give
//! revoked, both recorded for undo (docs/sync.md#groups).

use serde_json::json;

use super::choice::Choice;
use super::edits::Edits;
use super::workbook::grant_json;
use crate::error::Result;
use crate::import::plan::{Bucket, Outcomes};
use crate::store::{Grantable, Holder, RoleHeld, Tx};

impl Edits<'_> {
    /// Returns how many users' roles changed.
    pub(super) async fn write_group_roles(
        &self,
        tx: &mut Tx,
        choice: &Choice<'_>,
        plan: &Outcomes,
    ) -> Result<usize> {
        let Some(sync) = &self.state.sync else {
            return Ok(0);
        };
        let mut given: Vec<RoleHeld> = Vec::new();
        let mut users = 0;
        for o in plan.list.iter().filter(|o| choice.applies(o)) {
            let (Bucket::Updated, Some(k), Some(r)) =
                (o.bucket, choice.user_of(o), choice.row_of(o))
            else {
                continue;
            };
            let changes = self.state.role_changes(k, r.row);
            if changes.gained.is_empty() && changes.lost.is_empty() {
                continue;
            }
            users += 1;
            let holder = Holder::User(k.id);
            for g in changes.gained {
                let (what, mailbox) = (Grantable::Role(g.role_id), scope(g.mailbox_id));
                let actor = &self.usher.actor().name;
                if tx
                    .insert_grant(self.account.id, holder, &what, mailbox, actor, self.now)
                    .await?
                {
                    tx.insert_change(
                        self.batch,
                        "grant",
                        Some(k.id),
                        None,
                        &grant_json(&what, mailbox),
                    )
                    .await?;
                }
                given.push((k.id, g.role_id, g.mailbox_id));
            }
            for g in changes.lost {
                let (what, mailbox) = (Grantable::Role(g.role_id), scope(g.mailbox_id));
                if tx.delete_grant(holder, &what, mailbox).await? {
                    let kept = json!({"grants": [grant_json(&what, mailbox)]});
                    tx.insert_change(self.batch, "regrant", Some(k.id), None, &kept)
                        .await?;
                }
            }
        }
        tx.add_sync_grants(self.account.id, &sync.source, &given)
            .await?;
        Ok(users)
    }
}

/// The mailbox of a grant as the store takes it: None at account scope.
fn scope(mailbox_id: i64) -> Option<i64> {
    (mailbox_id != 0).then_some(mailbox_id)
}
