//! The preview of an import (docs/rules.md#import): every row of the file sorted into what
//! will happen to it, and the account's users that the file does not mention, before
//! anything changes. Users are matched by unique reference first, so an address that
//! changed under the same reference is an update, not a new user.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use super::account::{
    AccountState, GroupGrant, Invited, Known, PendingRow, RoleChanges, SyncState,
};
use super::account::{KeyIndex, NONE, position};
pub use super::bucket::Bucket;
use super::parsed::{ImportRow, Parsed, RowError};
use super::person::Person;
use crate::domain::licence::Seats;
use crate::domain::{UserStatus, UserType};

/// One line of the preview, as it is shown. A plan keeps only `Outcome`s (a few bytes a
/// row) and builds these when asked.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    /// The file's row; None for users missing from the file.
    pub row: Option<u64>,
    pub bucket: Bucket,
    pub email: String,
    pub user_id: Option<i64>,
    /// The pending invitation it concerns, for a person invited but not yet enrolled.
    pub invitation_id: Option<i64>,
    /// What changes, for updates ("last name: Lee → Smith").
    pub changes: Vec<String>,
    pub user_type: Option<UserType>,
    /// The reason, for errors.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct LicenceCheck {
    pub total: i64,
    pub used: i64,
    /// Professional seats the import would add: new professionals, and active guests
    /// the file makes professional.
    pub wanted: i64,
    /// How many more than are free; 0 when it fits.
    pub short_by: i64,
}

/// Where a line of the plan comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A valid row of the file: its position in `Parsed::rows`.
    Row(u32),
    /// A fault found when reading: its position in `Parsed::errors`.
    Fault(u32),
    /// A user of the account that the file does not mention.
    Missing,
}

/// What happens to one row or user: 16 bytes, so that a million rows against a million
/// users fit in a few tens of megabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub bucket: Bucket,
    /// Whether `at` is a pending invitation's position rather than a user's.
    invitation: bool,
    pub source: Source,
    /// The account's user or pending invitation it concerns: a position in
    /// `AccountState::users` or `AccountState::pending`, or `NONE`.
    at: u32,
}

impl Outcome {
    /// An outcome about the account's user at position `user`, if any.
    pub fn new(bucket: Bucket, source: Source, user: Option<usize>) -> Self {
        Self {
            bucket,
            invitation: false,
            source,
            at: user.and_then(|u| u32::try_from(u).ok()).unwrap_or(NONE),
        }
    }

    /// An outcome about the pending invitation at position `i`.
    pub fn of_invitation(bucket: Bucket, source: Source, i: usize) -> Self {
        Self {
            invitation: true,
            ..Self::new(bucket, source, Some(i))
        }
    }

    /// The account's user it concerns: a position in `AccountState::users`.
    pub fn user(&self) -> Option<usize> {
        position(self.at).filter(|_| !self.invitation)
    }

    /// The pending invitation it concerns: a position in `AccountState::pending`.
    pub fn invitation(&self) -> Option<usize> {
        position(self.at).filter(|_| self.invitation)
    }
}

/// Every row's outcome, with the counts, the licence check and the digest.
#[derive(Debug, Clone)]
pub struct Outcomes {
    pub list: Vec<Outcome>,
    pub counts: BTreeMap<Bucket, usize>,
    pub licences: LicenceCheck,
    /// A fingerprint of every row's outcome: apply compares it with the one the operator
    /// previewed, and re-plans instead of applying blindly if the data changed.
    pub digest: String,
}

/// The preview: the outcomes, with the file and the account state they refer to.
#[derive(Debug, Clone)]
pub struct Plan {
    pub counts: BTreeMap<Bucket, usize>,
    pub licences: LicenceCheck,
    pub digest: String,
    outcomes: Vec<Outcome>,
    parsed: Arc<Parsed>,
    state: Arc<AccountState>,
}

impl Plan {
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Every outcome, in the plan's order.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// The account as the plan saw it.
    pub fn state(&self) -> &AccountState {
        &self.state
    }

    /// The file the plan was made from.
    pub fn parsed(&self) -> &Arc<Parsed> {
        &self.parsed
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Of the missing, how many are pending invitations (the missing-users decision
    /// revokes them) rather than users.
    pub fn missing_invitations(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.bucket == Bucket::Missing && o.invitation().is_some())
            .count()
    }

    pub fn bucket(&self, i: usize) -> Option<Bucket> {
        self.outcomes.get(i).map(|o| o.bucket)
    }

    /// The `i`th line, as shown.
    pub fn row(&self, i: usize) -> Option<PlanRow> {
        self.outcomes
            .get(i)
            .map(|o| view(o, &self.parsed, &self.state))
    }

    pub fn rows(&self) -> impl Iterator<Item = PlanRow> + '_ {
        self.outcomes
            .iter()
            .map(|o| view(o, &self.parsed, &self.state))
    }
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Rows<'a>(&'a Plan);
        impl Serialize for Rows<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.rows())
            }
        }
        let mut st = s.serialize_struct("Plan", 5)?;
        st.serialize_field("counts", &self.counts)?;
        st.serialize_field("notes", &self.parsed.notes)?;
        st.serialize_field("licences", &self.licences)?;
        st.serialize_field("digest", &self.digest)?;
        st.serialize_field("rows", &Rows(self))?;
        st.end()
    }
}

/// The type a new user gets when the file does not say: professional, as staff lists are.
pub const DEFAULT_TYPE: UserType = UserType::Professional;

/// The preview of importing `parsed` into an account in `state`.
pub fn plan(parsed: Arc<Parsed>, state: AccountState) -> Plan {
    let o = outcomes(&parsed, &state);
    Plan {
        counts: o.counts,
        licences: o.licences,
        digest: o.digest,
        outcomes: o.list,
        parsed,
        state: Arc::new(state),
    }
}

/// The account's user or pending invitation each row concerns, by reference first, one
/// `u32` a row (see `picked`): at a million rows, a `Result` each would take 24 MB a list.
struct Matches {
    users: Vec<u32>,
    /// For rows that concern no user.
    invitations: Vec<u32>,
}

/// Marks a match as a clash: the row's reference names this person, its address another.
const CLASH: u32 = 1 << 31;

/// A row's match: `Ok(Some(position))`, `Ok(None)` for no one, `Err(position)` for a clash.
fn picked(m: u32) -> Result<Option<usize>, usize> {
    match m {
        NONE => Ok(None),
        m if m & CLASH != 0 => Err((m & !CLASH) as usize),
        m => Ok(Some(m as usize)),
    }
}

/// Each row's match among `people` (the account's users, or its pending invitations),
/// for the rows `wanted` says.
fn match_rows<'a, P: std::ops::Deref<Target = Person>>(
    rows: &'a [ImportRow],
    people: &'a [P],
    wanted: impl Fn(usize) -> bool,
) -> Vec<u32> {
    // One index at a time: each is 16 MB at a million users, and its lookups as much again.
    let by_ref = KeyIndex::new(
        people
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.unique_ref().map(|r| (i, r))),
    );
    let mut refs = by_ref.find_all(
        rows.len(),
        |i| rows[i].unique_ref().filter(|_| wanted(i)),
        |i, p| people[p].unique_ref() == rows[i].unique_ref(),
    );
    drop(by_ref);
    let by_email = KeyIndex::new(people.iter().enumerate().map(|(i, u)| (i, u.email())));
    let emails = by_email.find_all(
        rows.len(),
        |i| Some(rows[i].email()).filter(|_| wanted(i)),
        |i, p| people[p].email() == rows[i].email(),
    );
    drop(by_email);
    for (r, e) in refs.iter_mut().zip(&emails) {
        *r = match (*r, *e) {
            (NONE, e) => e,
            (r, e) if e != NONE && e != r => r | CLASH,
            (r, _) => r,
        };
    }
    refs
}

fn matches(parsed: &Parsed, state: &AccountState) -> Matches {
    let users = match_rows(&parsed.rows, &state.users, |_| true);
    let invitations = if state.pending.is_empty() {
        vec![NONE; parsed.rows.len()]
    } else {
        match_rows(&parsed.rows, &state.pending, |i| users[i] == NONE)
    };
    Matches { users, invitations }
}

/// Sorts every row into its bucket. The same for the preview and for apply, so that their
/// digests agree exactly when the data has not changed.
pub fn outcomes(parsed: &Parsed, state: &AccountState) -> Outcomes {
    let users = &state.users;
    let m = matches(parsed, state);
    let mut matched = vec![false; users.len()];
    let mut invited = vec![false; state.pending.len()];
    for (u, i) in m.users.iter().zip(&m.invitations) {
        if let Ok(Some(u)) = picked(*u) {
            matched[u] = true;
        }
        if let Ok(Some(i)) = picked(*i) {
            invited[i] = true;
        }
    }
    // Sized at once: growing a list of two million would hold the old copy beside it.
    // A workbook, or a sync that read only what changed, says nothing of the rest.
    let whole = parsed.workbook.is_none() && !state.sync.as_ref().is_some_and(|s| s.partial);
    let missing = match whole {
        true => matched.iter().filter(|m| !**m).count() + invited.iter().filter(|m| !**m).count(),
        false => 0,
    };
    let mut list = Vec::with_capacity(parsed.rows.len() + parsed.errors.len() + missing);
    let mut wanted = 0i64;
    for (at, r) in parsed.rows.iter().enumerate() {
        let source = Source::Row(at as u32);
        list.push(match (picked(m.users[at]), picked(m.invitations[at])) {
            (Ok(None), Err(i)) => Outcome::of_invitation(Bucket::Error, source, i),
            (Ok(None), Ok(Some(i))) => {
                let (bucket, seat) = invitation_bucket(&state.pending[i], r, parsed);
                wanted += i64::from(seat);
                Outcome::of_invitation(bucket, source, i)
            }
            (user, _) => {
                let (bucket, seat) = row_bucket(user, r, parsed, state);
                wanted += i64::from(seat);
                Outcome::new(bucket, source, user.unwrap_or_else(Some))
            }
        });
    }
    // One line per faulty row, however many faults it has: the count is of rows.
    list.extend(
        (0..parsed.errors.len())
            .filter(|&i| first_fault_of_row(parsed, i))
            .map(|i| Outcome::new(Bucket::Error, Source::Fault(i as u32), None)),
    );
    // A workbook creates users and grants; it says nothing of the users it leaves out.
    if whole {
        let unmatched = |seen: &[bool]| {
            let list: Vec<usize> = (0..seen.len()).filter(|i| !seen[*i]).collect();
            list
        };
        list.extend(
            unmatched(&matched)
                .into_iter()
                .map(|i| Outcome::new(Bucket::Missing, Source::Missing, Some(i))),
        );
        list.extend(
            unmatched(&invited)
                .into_iter()
                .map(|i| Outcome::of_invitation(Bucket::Missing, Source::Missing, i)),
        );
    }
    let mut counts: BTreeMap<Bucket, usize> = Bucket::ALL.iter().map(|b| (*b, 0)).collect();
    for o in &list {
        *counts.entry(o.bucket).or_default() += 1;
    }
    let seats = state.seats.unwrap_or(Seats { used: 0, total: 0 });
    Outcomes {
        digest: digest(&list, parsed, state),
        list,
        counts,
        licences: LicenceCheck {
            total: seats.total,
            used: seats.used,
            wanted,
            short_by: (seats.used + wanted - seats.total).max(0).min(wanted),
        },
    }
}

/// The bucket of a row that concerns no pending invitation (`user`: the account's user
/// it concerns), and whether it takes a professional licence.
fn row_bucket(
    user: Result<Option<usize>, usize>,
    r: &ImportRow,
    parsed: &Parsed,
    state: &AccountState,
) -> (Bucket, bool) {
    let domains = || state.domains.iter().any(|d| d == r.domain());
    match user {
        Err(_) => (Bucket::Error, false),
        Ok(_) if r.disabled => (Bucket::Disabled, false),
        Ok(Some(i)) => {
            let u = &state.users[i];
            let after = r.user_type.unwrap_or(u.user_type);
            let seat = (r.user_type == Some(UserType::Professional)
                && u.user_type == UserType::Guest
                && u.status == UserStatus::Active)
                || (state.revives(u) && after == UserType::Professional);
            if all_changes(u, r, parsed, state).is_empty() {
                (Bucket::Unchanged, seat)
            } else {
                (Bucket::Updated, seat)
            }
        }
        Ok(None) if !domains() => (Bucket::OutsideDomains, false),
        Ok(None) if mailbox_for_invitation(r, parsed) => (Bucket::Error, false),
        Ok(None) => (
            Bucket::New,
            r.user_type.unwrap_or(DEFAULT_TYPE) == UserType::Professional,
        ),
    }
}

/// The bucket of a row that concerns a pending invitation, and whether it takes a
/// professional licence (an expired invitation holds none; a guest's holds none).
fn invitation_bucket(inv: &Invited, r: &ImportRow, parsed: &Parsed) -> (Bucket, bool) {
    // A workbook creates users directly: it leaves invitations as they are.
    if r.disabled {
        return (Bucket::Disabled, false);
    }
    if parsed.workbook.is_some() {
        return (Bucket::Pending, false);
    }
    let changes = invitation_changes(inv, r);
    if changes.is_empty() {
        return (Bucket::Pending, false);
    }
    let professional = r.user_type.unwrap_or(inv.user_type) == UserType::Professional;
    let seat = professional && (inv.expired || inv.user_type == UserType::Guest);
    (Bucket::Updated, seat)
}

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

/// A fingerprint of what apply would do for each outcome, without building the rows.
fn digest(list: &[Outcome], parsed: &Parsed, state: &AccountState) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let rows = &parsed.rows;
    let mut h = Sha256::new();
    let mut line = String::new();
    for o in list {
        let user = o.user().and_then(|i| state.users.get(i));
        let inv = o.invitation().and_then(|i| state.pending.get(i));
        let (row, email, changed) = match o.source {
            Source::Row(i) => {
                let r = &rows[i as usize];
                let changed = match (o.bucket, user, inv) {
                    (Bucket::Updated | Bucket::Disabled, Some(u), _) => {
                        all_changes(u, r, parsed, state).join(";")
                    }
                    (Bucket::Updated, _, Some(v)) => invitation_changes(v, r).join(";"),
                    (Bucket::New, None, None) => new_changes(r, parsed).join(";"),
                    _ => String::new(),
                };
                (Some(r.row), r.email_display(), changed)
            }
            Source::Fault(i) => (
                parsed.errors.get(i as usize).map(|e| e.row),
                "",
                String::new(),
            ),
            Source::Missing => {
                let email = user
                    .map(|u| u.email_display())
                    .or(inv.map(|v| v.email_display()));
                let changed = user
                    .map(|u| leaver_changes(u, state).join(";"))
                    .unwrap_or_default();
                (None, email.unwrap_or_default(), changed)
            }
        };
        line.clear();
        let _ = writeln!(
            line,
            "{:?}|{:?}|{:?}|{:?}|{email}|{changed}",
            o.bucket,
            row,
            user.map(|u| u.id),
            inv.map(|v| v.id)
        );
        h.update(line.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// Whether fault `i` is the first of its row. Faults are in row order; a workbook's
/// come from several sheets whose rows share numbers, so each stays a line of its own.
fn first_fault_of_row(parsed: &Parsed, i: usize) -> bool {
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

/// A row's changes to an existing user, with the workbook grants they do not hold yet.
fn all_changes(u: &Known, r: &ImportRow, parsed: &Parsed, state: &AccountState) -> Vec<String> {
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
fn leaver_changes(u: &Known, state: &AccountState) -> Vec<String> {
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
fn disabled_changes(u: &Known, state: &AccountState) -> Vec<String> {
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
fn mailbox_for_invitation(r: &ImportRow, parsed: &Parsed) -> bool {
    r.personal_mailbox && r.password.is_none() && parsed.workbook.is_none()
}

/// What creating a workbook's new user brings: the mailbox and the grants.
fn new_changes(r: &ImportRow, parsed: &Parsed) -> Vec<String> {
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

/// Parses "3,7-9" into inclusive row ranges.
pub fn parse_rows(text: &str) -> Result<Vec<(u64, u64)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let num = |x: &str| {
                x.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("'{}' is not a row number", x.trim()))
            };
            match p.split_once('-') {
                Some((a, b)) => Ok((num(a)?, num(b)?)),
                None => num(p).map(|n| (n, n)),
            }
        })
        .collect()
}

#[cfg(test)]
mod layout {
    /// A plan holds one of these per row and per missing user: two million in the
    /// million-row case.
    #[test]
    fn records_held_by_the_million_stay_small() {
        assert_eq!(std::mem::size_of::<super::Outcome>(), 16);
        assert_eq!(std::mem::size_of::<super::Known>(), 48);
        assert_eq!(std::mem::size_of::<super::ImportRow>(), 56);
    }
}
