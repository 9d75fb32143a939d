//! The preview's lines: what one outcome shows (the row, its bucket, what changes, the
//! reason it is refused), built when asked so that a plan keeps only its outcomes.

use super::account::{AccountState, Invited};
use super::bucket::Bucket;
use super::changes::{all_changes, invitation_changes, leaver_changes, new_changes};
use super::outcome::{DEFAULT_TYPE, Outcome, PlanRow, Source};
use super::parsed::{ImportRow, Parsed, RowError};

/// Whether fault `i` is the first of its row. Faults are in row order; a workbook's
/// come from several sheets whose rows share numbers, so each stays a line of its own.
pub(crate) fn first_fault_of_row(parsed: &Parsed, i: usize) -> bool {
    parsed.workbook.is_some()
        || i == 0
        || parsed.errors.get(i - 1).map(|e| e.row) != parsed.errors.get(i).map(|e| e.row)
}

/// Every fault of the row whose first fault is `i`: "row 6, column 'email': ...;
/// column 'first_name': ...".
fn faults_of_row(parsed: &Parsed, i: usize) -> String {
    let Some(first) = parsed.errors.get(i) else {
        return String::new();
    };
    let mut text = first.to_string();
    if parsed.workbook.is_some() {
        return text;
    }
    for e in parsed.errors[i + 1..]
        .iter()
        .take_while(|e| e.row == first.row)
    {
        text.push_str("; ");
        text.push_str(&e.what());
    }
    text
}

/// The line an outcome shows.
pub fn view(o: &Outcome, parsed: &Parsed, state: &AccountState) -> PlanRow {
    if let Some(inv) = o.invitation().and_then(|i| state.pending.get(i)) {
        return invitation_view(o, inv, parsed, state.suspends_disabled());
    }
    let user = o.user().and_then(|i| state.users.get(i));
    match o.source {
        Source::Row(i) => {
            let Some(r) = parsed.rows.get(i as usize) else {
                return blank(o.bucket);
            };
            let mut row = simple(r, o.bucket);
            match (o.bucket, user) {
                (Bucket::Error, Some(u)) => {
                    row.reason = Some(two_people(r, u.email(), "user"));
                }
                (_, Some(u)) => {
                    row.user_id = Some(u.id);
                    row.changes = all_changes(u, r, parsed, state);
                }
                (Bucket::New, None) => {
                    row.user_type = Some(r.user_type.unwrap_or(DEFAULT_TYPE));
                    row.changes = new_changes(r, parsed);
                }
                (Bucket::Error, None) => {
                    row.reason = Some(format!(
                        "row {}: a personal mailbox is made only for users created directly \
                         (with a password, or from the roles workbook); leave it out and run \
                         `usher mailboxes personal` once the user has enrolled",
                        r.row
                    ));
                }
                _ => {}
            }
            row
        }
        Source::Fault(i) => {
            let e: Option<&RowError> = parsed.errors.get(i as usize);
            PlanRow {
                row: e.map(|e| e.row),
                reason: e.map(|_| faults_of_row(parsed, i as usize)),
                ..blank(Bucket::Error)
            }
        }
        Source::Missing => match user {
            Some(u) => PlanRow {
                email: u.email_display().to_owned(),
                user_id: Some(u.id),
                user_type: Some(u.user_type),
                changes: leaver_changes(u, state),
                ..blank(Bucket::Missing)
            },
            None => blank(Bucket::Missing),
        },
    }
}

/// The reason a row is refused when its reference names one person and its address
/// another (`whose`: "user" or "pending invitation").
fn two_people(r: &ImportRow, theirs: &str, whose: &str) -> String {
    format!(
        "row {}: unique reference '{}' belongs to {theirs} but the address {} to another {whose}",
        r.row,
        r.unique_ref().unwrap_or_default(),
        r.email()
    )
}

/// The line of an outcome about a pending invitation (`sync`: one disabled at the source
/// is revoked).
fn invitation_view(o: &Outcome, inv: &Invited, parsed: &Parsed, sync: bool) -> PlanRow {
    let state = if inv.expired {
        "invitation expired, not enrolled"
    } else {
        "invitation pending, not enrolled"
    };
    let base = PlanRow {
        invitation_id: Some(inv.id),
        user_type: Some(inv.user_type),
        ..blank(o.bucket)
    };
    let Source::Row(i) = o.source else {
        return PlanRow {
            email: inv.email_display().to_owned(),
            changes: vec![state.to_owned()],
            ..base
        };
    };
    let Some(r) = parsed.rows.get(i as usize) else {
        return base;
    };
    let mut row = PlanRow {
        row: Some(r.row),
        email: r.email_display().to_owned(),
        ..base
    };
    match o.bucket {
        Bucket::Error => row.reason = Some(two_people(r, inv.email(), "pending invitation")),
        Bucket::Updated => {
            row.user_type = Some(r.user_type.unwrap_or(inv.user_type));
            row.changes = invitation_changes(inv, r);
        }
        Bucket::Disabled if sync => {
            row.changes = vec!["invitation revoked (disabled at the source)".to_owned()];
        }
        _ => {}
    }
    row
}

fn blank(bucket: Bucket) -> PlanRow {
    PlanRow {
        row: None,
        bucket,
        email: String::new(),
        user_id: None,
        invitation_id: None,
        changes: Vec::new(),
        user_type: None,
        reason: None,
    }
}

fn simple(r: &ImportRow, bucket: Bucket) -> PlanRow {
    PlanRow {
        row: Some(r.row),
        email: r.email_display().to_owned(),
        user_type: r.user_type,
        ..blank(bucket)
    }
}
