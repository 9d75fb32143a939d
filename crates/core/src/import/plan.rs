//! The preview of an import (docs/rules.md#import): every row of the file sorted into what
//! will happen to it, and the account's users that the file does not mention, before
//! anything changes. Users are matched by unique reference first, so an address that
//! changed under the same reference is an update, not a new user. What a plan keeps of
//! each row is in outcome.rs, what a row changes in changes.rs, the lines it shows in
//! row_view.rs.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use super::account::{
    AccountState, GroupGrant, Invited, Known, PendingRow, RoleChanges, SyncState,
};
use super::account::{KeyIndex, NONE};
pub use super::bucket::Bucket;
use super::changes::{all_changes, leaver_changes, mailbox_for_invitation, new_changes};
pub use super::changes::{invitation_changes, replaces};
pub use super::outcome::{DEFAULT_TYPE, LicenceCheck, Outcome, PlanRow, Source};
use super::parsed::{ImportRow, Parsed};
use super::person::Person;
use super::row_view::first_fault_of_row;
pub use super::row_view::view;
use crate::domain::licence::Seats;
use crate::domain::{UserStatus, UserType};

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
