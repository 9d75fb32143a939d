//! The preview of an import (seed 000): every row of the file sorted into what will
//! happen to it, and the account's users that the file does not mention, before anything
//! changes. Users are matched by unique reference first, so an address that changed under
//! the same reference is an update, not a new user.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

pub use super::account::{AccountState, Known};
use super::account::{KeyIndex, NONE, position};
use super::validate::{ImportRow, Parsed, RowError};
use crate::domain::licence::Seats;
use crate::domain::{UserStatus, UserType};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Not in the account: an invitation will be sent (or, with a password, the user
    /// created active).
    New,
    /// Already invited, invitation still pending.
    Pending,
    /// An existing user whose name, address or type changes.
    Updated,
    /// An existing user, as the file has them.
    Unchanged,
    /// In the account but not in the file (kept unless the operator decides otherwise).
    Missing,
    /// An address outside the account's domains: not imported unless asked for.
    OutsideDomains,
    /// Disabled where the file comes from: not invited, an existing user left as is
    /// (and not missing). `--ignore` on the column reads them as any other row.
    Disabled,
    /// A row that cannot be imported.
    Error,
}

impl Bucket {
    pub const ALL: [Bucket; 8] = [
        Bucket::New,
        Bucket::Pending,
        Bucket::Updated,
        Bucket::Unchanged,
        Bucket::Missing,
        Bucket::OutsideDomains,
        Bucket::Disabled,
        Bucket::Error,
    ];

    /// Parses a bucket's name as the command line writes it.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(
            match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "new" => Bucket::New,
                "pending" => Bucket::Pending,
                "updated" => Bucket::Updated,
                "unchanged" => Bucket::Unchanged,
                "missing" => Bucket::Missing,
                "outside" | "outside_domains" => Bucket::OutsideDomains,
                other => {
                    return Err(format!(
                        "'{other}' is not a bucket: new, updated, missing, outside"
                    ));
                }
            },
        )
    }

    /// `short_label` for a roles workbook's plan, where new users are created directly.
    pub fn short_label_for(self, workbook: bool) -> &'static str {
        match self {
            Bucket::New if workbook => "new: will be created",
            Bucket::Error if workbook => "left out (faults)",
            b => b.short_label(),
        }
    }

    /// A few words, for narrow places (the console's bucket list).
    pub fn short_label(self) -> &'static str {
        match self {
            Bucket::New => "new: will be invited",
            Bucket::Pending => "already invited",
            Bucket::Updated => "updated",
            Bucket::Unchanged => "unchanged",
            Bucket::Missing => "missing from the file",
            Bucket::OutsideDomains => "outside the domains",
            Bucket::Disabled => "disabled at the source",
            Bucket::Error => "errors",
        }
    }

    /// The label for a roles workbook's plan, where new users are created directly.
    pub fn label_for(self, workbook: bool) -> &'static str {
        match self {
            Bucket::New if workbook => "new users (created directly, active)",
            b => b.label(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::New => "new users (an invitation will be sent)",
            Bucket::Pending => "already invited, pending",
            Bucket::Updated => "existing users updated",
            Bucket::Unchanged => "unchanged",
            Bucket::Missing => "in the account, missing from the file",
            Bucket::OutsideDomains => "outside the account's domains",
            Bucket::Disabled => "disabled at the source (left alone, not invited)",
            Bucket::Error => "errors",
        }
    }
}

/// One line of the preview, as it is shown. A plan keeps only `Outcome`s (a few bytes a
/// row) and builds these when asked.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    /// The file's row; None for users missing from the file.
    pub row: Option<u64>,
    pub bucket: Bucket,
    pub email: String,
    pub user_id: Option<i64>,
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
    pub source: Source,
    /// The account's user it concerns: a position in `AccountState::users`, or `NONE`.
    user: u32,
}

impl Outcome {
    pub fn new(bucket: Bucket, source: Source, user: Option<usize>) -> Self {
        let user = user.and_then(|u| u32::try_from(u).ok()).unwrap_or(NONE);
        Self {
            bucket,
            source,
            user,
        }
    }

    /// The account's user it concerns: a position in `AccountState::users`.
    pub fn user(&self) -> Option<usize> {
        position(self.user)
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

    /// The file the plan was made from.
    pub fn parsed(&self) -> &Arc<Parsed> {
        &self.parsed
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
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

/// Sorts every row into its bucket. The same for the preview and for apply, so that their
/// digests agree exactly when the data has not changed.
pub fn outcomes(parsed: &Parsed, state: &AccountState) -> Outcomes {
    let users = &state.users;
    // One index at a time: each is 16 MB at a million users, and its lookups as much again.
    let by_ref = KeyIndex::new(
        users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.unique_ref().map(|r| (i, r))),
    );
    let pending: HashSet<&str> = state.pending.iter().map(String::as_str).collect();
    let domains: HashSet<&str> = state.domains.iter().map(String::as_str).collect();
    let rows = &parsed.rows;
    let refs = by_ref.find_all(
        rows.len(),
        |i| rows[i].unique_ref(),
        |i, p| users[p].unique_ref() == rows[i].unique_ref(),
    );
    drop(by_ref);
    let by_email = KeyIndex::new(users.iter().enumerate().map(|(i, u)| (i, u.email())));
    let emails = by_email.find_all(
        rows.len(),
        |i| Some(rows[i].email()),
        |i, p| users[p].email() == rows[i].email(),
    );
    drop(by_email);
    // The user each row concerns, by reference first; Err when its reference names one
    // user and its address another.
    let pick = |at: usize| match (position(refs[at]), position(emails[at])) {
        (Some(a), Some(b)) if a != b => Err(a),
        (a, b) => Ok(a.or(b)),
    };
    let mut matched = vec![false; users.len()];
    for at in 0..rows.len() {
        if let Ok(Some(i)) = pick(at) {
            matched[i] = true;
        }
    }
    // Sized at once: growing a list of two million would hold the old copy beside it.
    let missing = match parsed.workbook {
        None => matched.iter().filter(|m| !**m).count(),
        Some(_) => 0,
    };
    let mut list = Vec::with_capacity(rows.len() + parsed.errors.len() + missing);
    let mut wanted = 0i64;

    for (at, r) in rows.iter().enumerate() {
        let source = Source::Row(at as u32);
        let (bucket, user) = match pick(at) {
            Err(a) => (Bucket::Error, Some(a)),
            Ok(i) if r.disabled => (Bucket::Disabled, i),
            Ok(Some(i)) => {
                let u = &users[i];
                if r.user_type == Some(UserType::Professional)
                    && u.user_type == UserType::Guest
                    && u.status == UserStatus::Active
                {
                    wanted += 1;
                }
                let bucket = if all_changes(u, r, parsed, state).is_empty() {
                    Bucket::Unchanged
                } else {
                    Bucket::Updated
                };
                (bucket, Some(i))
            }
            Ok(None) if pending.contains(r.email()) => (Bucket::Pending, None),
            Ok(None) if !domains.contains(r.domain()) => (Bucket::OutsideDomains, None),
            Ok(None) if mailbox_for_invitation(r, parsed) => (Bucket::Error, None),
            Ok(None) => {
                if r.user_type.unwrap_or(DEFAULT_TYPE) == UserType::Professional {
                    wanted += 1;
                }
                (Bucket::New, None)
            }
        };
        list.push(Outcome::new(bucket, source, user));
    }
    // One line per faulty row, however many faults it has: the count is of rows.
    list.extend(
        (0..parsed.errors.len())
            .filter(|&i| first_fault_of_row(parsed, i))
            .map(|i| Outcome::new(Bucket::Error, Source::Fault(i as u32), None)),
    );
    // A workbook creates users and grants; it says nothing of the users it leaves out.
    list.extend(
        matched
            .iter()
            .enumerate()
            .filter(|_| parsed.workbook.is_none())
            .filter(|(_, m)| !**m)
            .map(|(i, _)| Outcome::new(Bucket::Missing, Source::Missing, Some(i))),
    );
    let mut counts: BTreeMap<Bucket, usize> = Bucket::ALL.iter().map(|b| (*b, 0)).collect();
    for o in &list {
        *counts.entry(o.bucket).or_default() += 1;
    }
    let seats = state.seats.unwrap_or(Seats { used: 0, total: 0 });
    let digest = {
        use sha2::{Digest, Sha256};
        use std::fmt::Write;
        let mut h = Sha256::new();
        let mut line = String::new();
        for o in &list {
            // The fields that decide what apply does, without building the shown row.
            let user = o.user().and_then(|i| users.get(i));
            let (row, email, changed) = match o.source {
                Source::Row(i) => {
                    let r = &rows[i as usize];
                    let changed = match (o.bucket, user) {
                        (Bucket::Updated, Some(u)) => all_changes(u, r, parsed, state).join(";"),
                        (Bucket::New, None) => new_changes(r, parsed).join(";"),
                        _ => String::new(),
                    };
                    (Some(r.row), r.email_display(), changed)
                }
                Source::Fault(i) => (
                    parsed.errors.get(i as usize).map(|e| e.row),
                    "",
                    String::new(),
                ),
                Source::Missing => (None, user.map_or("", |u| u.email_display()), String::new()),
            };
            line.clear();
            let _ = writeln!(
                line,
                "{:?}|{:?}|{:?}|{email}|{changed}",
                o.bucket,
                row,
                user.map(|u| u.id)
            );
            h.update(line.as_bytes());
        }
        hex::encode(&h.finalize()[..8])
    };
    Outcomes {
        list,
        counts,
        digest,
        licences: LicenceCheck {
            total: seats.total,
            used: seats.used,
            wanted,
            short_by: (seats.used + wanted - seats.total).max(0).min(wanted),
        },
    }
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
    let user = o.user().and_then(|i| state.users.get(i));
    match o.source {
        Source::Row(i) => {
            let Some(r) = parsed.rows.get(i as usize) else {
                return blank(o.bucket);
            };
            let mut row = simple(r, o.bucket);
            match (o.bucket, user) {
                (Bucket::Error, Some(u)) => {
                    row.reason = Some(format!(
                        "row {}: unique reference '{}' belongs to {} but the address {} to another user",
                        r.row,
                        r.unique_ref().unwrap_or_default(),
                        u.email(),
                        r.email()
                    ));
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
                ..blank(Bucket::Missing)
            },
            None => blank(Bucket::Missing),
        },
    }
}

fn blank(bucket: Bucket) -> PlanRow {
    PlanRow {
        row: None,
        bucket,
        email: String::new(),
        user_id: None,
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
    let mut out = changes(u, r);
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
fn changes(u: &Known, r: &ImportRow) -> Vec<String> {
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
        && t != u.user_type
    {
        out.push(format!("type: {} → {t}", u.user_type));
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
