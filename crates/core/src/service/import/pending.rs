//! An import's changes to pending invitations, found by the file's unique reference (or
//! address) like users: changed names or type are written in place, a changed address or
//! an expired link replaces the invitation (the old one revoked here, the new one written
//! with the others by `invites`), and a leaver's invitation is revoked by the
//! missing-users decision. Each is recorded for undo and audited.

use serde_json::json;

use super::edits::{Edits, Logged, snapshot};
use crate::domain::{Timestamp, UserType};
use crate::error::Result;
use crate::import::ImportRow;
use crate::import::plan::{Invited, Outcome, Source, invitation_changes};
use crate::store::{Change, InvitationEdit, Revocation, Tx};

/// Invitations per chunk.
const CHUNK: usize = 5_000;

/// Why an import revokes an invitation, for its audit entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Why {
    /// A new invitation replaces it (new address, or expired).
    Replaced,
    /// The person is missing from the file.
    Missing,
    /// The person is disabled at the directory a sync reads.
    Disabled,
}

/// A row's names, or the invitation's where the row has none (an export without name
/// columns must not blank them).
pub(super) fn names<'a>(r: &'a ImportRow, inv: Option<&'a Invited>) -> (&'a str, &'a str) {
    let or = |row: &'a str, theirs: Option<&'a str>| match theirs {
        Some(t) if row.is_empty() => t,
        _ => row,
    };
    (
        or(r.first_name(), inv.map(|i| i.first_name())),
        or(r.last_name(), inv.map(|i| i.last_name())),
    )
}

/// The state of an invitation before an import changed it, for undo.
fn before(inv: &Invited) -> InvitationEdit {
    InvitationEdit {
        id: inv.id,
        first_name: inv.first_name().to_owned(),
        last_name: inv.last_name().to_owned(),
        unique_ref: inv.unique_ref().map(str::to_owned),
        user_type: inv.user_type,
    }
}

impl Edits<'_> {
    /// The pending invitation an outcome names.
    pub(super) fn invitation(&self, o: &Outcome) -> Option<&Invited> {
        o.invitation().and_then(|i| self.state.pending.get(i))
    }

    /// Writes the names, type and reference the file gives these pending invitations,
    /// each with the type the apply gave it. Returns how many.
    pub(super) async fn update_invitations(
        &self,
        tx: &mut Tx,
        updates: &[(&Outcome, UserType)],
    ) -> Result<usize> {
        for chunk in updates.chunks(CHUNK) {
            let mut edits = Vec::with_capacity(chunk.len());
            let mut logged = Vec::with_capacity(chunk.len());
            for (o, user_type) in chunk {
                let (Some(inv), Source::Row(i)) = (self.invitation(o), o.source) else {
                    continue;
                };
                let Some(r) = self.parsed.rows.get(i as usize) else {
                    continue;
                };
                let (first, last) = names(r, Some(inv));
                edits.push(InvitationEdit {
                    id: inv.id,
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
                    unique_ref: r.unique_ref().or(inv.unique_ref()).map(str::to_owned),
                    user_type: *user_type,
                });
                logged.push(Logged {
                    id: inv.id,
                    before: snapshot(&before(inv))?,
                    target: format!("invitation:{} {}", inv.id, inv.email()),
                    details: json!({"batch": self.batch, "changes": invitation_changes(inv, r)}),
                });
            }
            tx.set_invitations_fields(&edits).await?;
            self.log_invitations(tx, "invitation", "invitation.update", logged)
                .await?;
        }
        Ok(updates.len())
    }

    /// Revokes these pending invitations, their links dead at once. Returns how many.
    pub(super) async fn revoke_invitations(
        &self,
        tx: &mut Tx,
        list: &[&Invited],
        why: Why,
    ) -> Result<usize> {
        let mut done = 0;
        for chunk in list.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|i| i.id).collect();
            done += tx
                .revoke_invitations(Revocation {
                    ids: &ids,
                    at: self.now,
                })
                .await? as usize;
            let reason = match why {
                Why::Replaced => "replaced by a new invitation",
                Why::Missing => "missing from the file",
                Why::Disabled => "disabled at the source",
            };
            let logged = chunk
                .iter()
                .map(|inv| Logged {
                    id: inv.id,
                    before: "{}".to_owned(),
                    target: format!("invitation:{} {}", inv.id, inv.email()),
                    details: json!({"batch": self.batch, "reason": reason}),
                })
                .collect();
            self.log_invitations(tx, "revoke", "invitation.revoke", logged)
                .await?;
        }
        Ok(done)
    }
}

/// Undo of a run of changes to pending invitations: fields written back (where still
/// pending) or revoked invitations reopened. Returns how many invitations are as before.
pub(super) async fn restore_invitations(
    tx: &mut Tx,
    changes: &[Change],
    applied_at: Timestamp,
) -> Result<usize> {
    match changes.first().map(|c| c.kind.as_str()) {
        Some("invitation") => {
            let edits: Vec<InvitationEdit> = changes
                .iter()
                .filter_map(|c| serde_json::from_str(&c.before).ok())
                .collect();
            tx.set_invitations_fields(&edits).await?;
            Ok(edits.len())
        }
        Some("revoke") => {
            let ids: Vec<i64> = changes.iter().filter_map(|c| c.invitation_id).collect();
            let n = tx
                .reopen_invitations(Revocation {
                    ids: &ids,
                    at: applied_at,
                })
                .await?;
            Ok(n as usize)
        }
        _ => Ok(0),
    }
}
