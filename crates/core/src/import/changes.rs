//! What a row of an import changes: on a user of the account, on a pending
//! invitation, or for a person the file or the directory no longer holds. The plan
//! sorts rows by these, and the preview shows them.

use super::account::{AccountState, Invited, Known};
use super::parsed::{ImportRow, Parsed};
use super::person::Person;
use crate::domain::{UserStatus, UserType};

/// Whether a row for this pending invitation replaces it (the old link dies, a new one
/// is mailed) rather than changing it in place: its address changed, or it expired.
pub fn replaces(inv: &Invited, r: &ImportRow) -> bool {
    inv.expired || inv.email() != r.email()
}

/// What a row changes on a pending invitation.
pub fn invitation_changes(inv: &Invited, r: &ImportRow) -> Vec<String> {
    let mut out = changes(inv, inv.user_type, r);
    if inv.email() != r.email() {
        if let Some(first) = out.first_mut() {
            first.push_str(" (a new invitation replaces the pending one)");
        }
    } else if inv.expired {
        out.insert(0, "invitation expired: a new one is sent".to_owned());
    }
    out
}

/// A row's changes to an existing user, with the workbook grants they do not hold yet.
pub(crate) fn all_changes(
    u: &Known,
    r: &ImportRow,
    parsed: &Parsed,
    state: &AccountState,
) -> Vec<String> {
    if r.disabled {
        return disabled_changes(u, state);
    }
    let mut out = changes(u, u.user_type, r);
    if state.revives(u) {
        out.push("status: suspended → active (enabled again at the source)".to_owned());
    }
    let roles = state.role_changes(u, r.row);
    out.extend(roles.gained.iter().map(|g| format!("+ {}", g.label)));
    out.extend(
        roles
            .lost
            .iter()
            .map(|g| format!("- {} (no longer in its group)", g.label)),
    );
    if let Some(book) = &parsed.workbook {
        let held = state.held.get(&u.id);
        out.extend(
            book.of(r.row)
                .iter()
                .map(|w| w.label())
                .filter(|l| held.is_none_or(|h| !h.contains(&l.to_lowercase())))
                .map(|l| format!("+ {l}")),
        );
    }
    out
}

/// What a sync does to a user the directory no longer holds, by the source's decision.
pub(crate) fn leaver_changes(u: &Known, state: &AccountState) -> Vec<String> {
    use crate::config::Leavers;
    let Some(sync) = &state.sync else {
        return Vec::new();
    };
    let said = match sync.leavers {
        _ if sync.spared.contains(&u.id) => "kept: the operator or an Administrator",
        Leavers::Suspend if u.status == UserStatus::Active => {
            "status: active → suspended (not in the directory)"
        }
        Leavers::Remove => "removed (not in the directory)",
        _ => return Vec::new(),
    };
    vec![said.to_owned()]
}

/// What a sync does to a user disabled at the source: suspends them if active.
pub(crate) fn disabled_changes(u: &Known, state: &AccountState) -> Vec<String> {
    if state.spares(u.id) && u.status == UserStatus::Active {
        vec!["kept: the operator or an Administrator".to_owned()]
    } else if state.suspends_disabled() && u.status == UserStatus::Active {
        vec!["status: active → suspended (disabled at the source)".to_owned()]
    } else {
        Vec::new()
    }
}

/// An invitation cannot carry a personal mailbox yet: it is made for users created
/// directly, so asking for one on an invited row is a fault, never silently dropped.
pub(crate) fn mailbox_for_invitation(r: &ImportRow, parsed: &Parsed) -> bool {
    r.personal_mailbox && r.password.is_none() && parsed.workbook.is_none()
}

/// What creating a workbook's new user brings: the mailbox and the grants.
pub(crate) fn new_changes(r: &ImportRow, parsed: &Parsed) -> Vec<String> {
    let mut out = Vec::new();
    if r.personal_mailbox {
        out.push("+ personal mailbox".to_owned());
    }
    if let Some(book) = &parsed.workbook {
        out.extend(book.of(r.row).iter().map(|w| format!("+ {}", w.label())));
    }
    out
}

/// What the row would change on the user. Empty names in the file change nothing: a
/// list without name columns must not blank everyone's names.
fn changes(u: &Person, user_type: UserType, r: &ImportRow) -> Vec<String> {
    let mut out = Vec::new();
    if u.email() != r.email() {
        out.push(format!("address: {} → {}", u.email(), r.email()));
    }
    if !r.first_name().is_empty() && u.first_name() != r.first_name() {
        out.push(format!(
            "first name: {} → {}",
            u.first_name(),
            r.first_name()
        ));
    }
    if !r.last_name().is_empty() && u.last_name() != r.last_name() {
        out.push(format!("last name: {} → {}", u.last_name(), r.last_name()));
    }
    if let Some(t) = r.user_type
        && t != user_type
    {
        out.push(format!("type: {user_type} → {t}"));
    }
    if u.unique_ref().is_none()
        && let Some(x) = r.unique_ref()
    {
        out.push(format!("unique reference: (none) → {x}"));
    }
    out
}
