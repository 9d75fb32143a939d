//! What the operator decides for an apply, and what the apply did.

use serde::Serialize;

use crate::import::Progress;
use crate::import::plan::Bucket;

/// What happens to users in the account that the file does not mention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    #[default]
    Keep,
    Suspend,
    Remove,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub missing: Missing,
    /// New professionals beyond the free licences are imported as guests.
    pub overflow_as_guests: bool,
    /// Addresses outside the account's domains are invited too (as guests).
    pub include_outside: bool,
    /// The previewed plan's digest: if the plan differs now, nothing is applied.
    pub expect_digest: Option<String>,
    /// Buckets left out (the operator leaves out what should not happen).
    pub skip: Vec<Bucket>,
    /// Rows left out: inclusive ranges of the file's row numbers.
    pub exclude_rows: Vec<(u64, u64)>,
    /// Users missing from the file left as they are, by address (they have no row).
    pub exclude_emails: Vec<String>,
    /// Users missing from the file left as they are, by unique reference (a sync's
    /// entries that have faults name them so).
    pub exclude_refs: Vec<String>,
    /// Apply the good rows and leave the faulty ones out, on purpose: without it a
    /// single faulty row refuses the whole file.
    pub skip_errors: bool,
    pub file_name: String,
    pub file_sha256: String,
    /// Told of the rows applied.
    pub progress: Progress,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyOutcome {
    pub batch_id: i64,
    pub invited: usize,
    /// Created active with the file's password, without an invitation
    /// (docs/rules.md#import).
    pub created: usize,
    pub invited_as_guests: usize,
    pub updated: usize,
    pub suspended: usize,
    pub removed: usize,
    /// Users a roles workbook left out for faults (docs/rules.md#import).
    pub left_out: usize,
    /// Pending invitations replaced by a new one (a new address under the same unique
    /// reference, or an expired link): the old link dead, a new one mailed. Not counted
    /// in `invited`.
    pub reinvited: usize,
    /// Pending invitations whose names, type or reference the file changed.
    pub invitations_updated: usize,
    /// Pending invitations of people missing from the file, revoked by the missing-users
    /// decision.
    pub invitations_revoked: usize,
    /// Users whose roles a sync's groups changed (docs/sync.md#groups).
    pub roles_changed: usize,
}

/// The counts that are not zero, each as "what N" (or "N what", `count_first`).
pub(super) fn said(parts: &[(usize, &str)], count_first: bool) -> Vec<String> {
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match count_first {
            true => format!("{n} {what}"),
            false => format!("{what} {n}"),
        })
        .collect()
}

impl ApplyOutcome {
    /// What the apply did, in one line (the console's and the command line's report):
    /// the counts that are not zero.
    pub fn summary(&self) -> String {
        let mut users = said(
            &[
                (self.invited, "invited"),
                (self.created, "created"),
                (self.updated, "updated"),
                (self.suspended, "suspended"),
                (self.removed, "removed"),
                (self.roles_changed, "roles changed for"),
            ],
            false,
        );
        if self.invited_as_guests > 0
            && let Some(first) = users.first_mut()
        {
            first.push_str(&format!(
                " ({} as guests for want of licences)",
                self.invited_as_guests
            ));
        }
        let pending = said(
            &[
                (self.reinvited, "sent again (new address or expired)"),
                (self.invitations_updated, "changed"),
                (self.invitations_revoked, "revoked (missing from the file)"),
            ],
            true,
        );
        if !pending.is_empty() {
            users.push(format!("pending invitations {}", pending.join(", ")));
        }
        if users.is_empty() {
            "nothing changed".to_owned()
        } else {
            users.join(", ")
        }
    }
}
