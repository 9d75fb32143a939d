//! The preview of an import (seed 000): every row of the file sorted into what will
//! happen to it, and the account's users that the file does not mention, before anything
//! changes. Users are matched by unique reference first, so an address that changed under
//! the same reference is an update, not a new user.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::validate::{ImportRow, Parsed, RowError};
use crate::domain::licence::Seats;
use crate::domain::{UserStatus, UserType};
use crate::store::User;

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
    /// A row that cannot be imported.
    Error,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::New,
        Bucket::Pending,
        Bucket::Updated,
        Bucket::Unchanged,
        Bucket::Missing,
        Bucket::OutsideDomains,
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

    /// A few words, for narrow places (the console's bucket list).
    pub fn short_label(self) -> &'static str {
        match self {
            Bucket::New => "new: will be invited",
            Bucket::Pending => "already invited",
            Bucket::Updated => "updated",
            Bucket::Unchanged => "unchanged",
            Bucket::Missing => "missing from the file",
            Bucket::OutsideDomains => "outside the domains",
            Bucket::Error => "errors",
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
            Bucket::Error => "errors",
        }
    }
}

/// One line of the preview.
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

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub counts: BTreeMap<Bucket, usize>,
    pub rows: Vec<PlanRow>,
    pub licences: LicenceCheck,
    /// A fingerprint of every row's outcome: apply compares it with the one the operator
    /// previewed, and re-plans instead of applying blindly if the data changed.
    pub digest: String,
}

/// What the account holds now, as the plan needs it.
#[derive(Debug, Default)]
pub struct AccountState {
    pub users: Vec<User>,
    pub pending: Vec<String>,
    pub domains: Vec<String>,
    pub seats: Option<Seats>,
}

/// The type a new user gets when the file does not say: professional, as staff lists are.
pub const DEFAULT_TYPE: UserType = UserType::Professional;

pub fn plan(parsed: &Parsed, state: &AccountState) -> Plan {
    let by_email: HashMap<&str, usize> = state
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.email.as_str(), i))
        .collect();
    let by_ref: HashMap<&str, usize> = state
        .users
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.unique_ref.as_deref().map(|r| (r, i)))
        .collect();
    let pending: HashSet<&str> = state.pending.iter().map(String::as_str).collect();
    let domains: HashSet<&str> = state.domains.iter().map(String::as_str).collect();
    let mut matched = vec![false; state.users.len()];
    let mut rows = Vec::with_capacity(parsed.rows.len() + parsed.errors.len());
    let mut wanted = 0i64;

    for r in &parsed.rows {
        let by_r = r.unique_ref.as_deref().and_then(|x| by_ref.get(x).copied());
        let by_e = by_email.get(r.email.canonical()).copied();
        let row = match (by_r, by_e) {
            (Some(a), Some(b)) if a != b => error_row(
                r,
                format!(
                    "unique reference '{}' belongs to {} but the address {} to another user",
                    r.unique_ref.as_deref().unwrap_or_default(),
                    state.users[a].email,
                    r.email.canonical()
                ),
            ),
            (Some(i), _) | (None, Some(i)) => {
                matched[i] = true;
                let u = &state.users[i];
                let changes = changes(u, r);
                if r.user_type == Some(UserType::Professional)
                    && u.user_type == UserType::Guest
                    && u.status == UserStatus::Active
                {
                    wanted += 1;
                }
                PlanRow {
                    row: Some(r.row),
                    bucket: if changes.is_empty() {
                        Bucket::Unchanged
                    } else {
                        Bucket::Updated
                    },
                    email: r.email.display().to_owned(),
                    user_id: Some(u.id),
                    changes,
                    user_type: r.user_type,
                    reason: None,
                }
            }
            (None, None) if pending.contains(r.email.canonical()) => simple(r, Bucket::Pending),
            (None, None) if !domains.contains(r.email.domain()) => {
                simple(r, Bucket::OutsideDomains)
            }
            (None, None) => {
                if r.user_type.unwrap_or(DEFAULT_TYPE) == UserType::Professional {
                    wanted += 1;
                }
                PlanRow {
                    user_type: Some(r.user_type.unwrap_or(DEFAULT_TYPE)),
                    ..simple(r, Bucket::New)
                }
            }
        };
        rows.push(row);
    }
    rows.extend(parsed.errors.iter().map(|e: &RowError| PlanRow {
        row: Some(e.row),
        bucket: Bucket::Error,
        email: String::new(),
        user_id: None,
        changes: Vec::new(),
        user_type: None,
        reason: Some(e.to_string()),
    }));
    for (i, u) in state.users.iter().enumerate() {
        if !matched[i] {
            rows.push(PlanRow {
                row: None,
                bucket: Bucket::Missing,
                email: u.email_display.clone(),
                user_id: Some(u.id),
                changes: Vec::new(),
                user_type: Some(u.user_type),
                reason: None,
            });
        }
    }
    let mut counts: BTreeMap<Bucket, usize> = Bucket::ALL.iter().map(|b| (*b, 0)).collect();
    for r in &rows {
        *counts.entry(r.bucket).or_default() += 1;
    }
    let seats = state.seats.unwrap_or(Seats { used: 0, total: 0 });
    let digest = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for r in &rows {
            h.update(format!(
                "{:?}|{:?}|{:?}|{}|{}\n",
                r.bucket,
                r.row,
                r.user_id,
                r.email,
                r.changes.join(";")
            ));
        }
        hex::encode(&h.finalize()[..8])
    };
    Plan {
        counts,
        digest,
        rows,
        licences: LicenceCheck {
            total: seats.total,
            used: seats.used,
            wanted,
            short_by: (seats.used + wanted - seats.total).max(0).min(wanted),
        },
    }
}

fn simple(r: &ImportRow, bucket: Bucket) -> PlanRow {
    PlanRow {
        row: Some(r.row),
        bucket,
        email: r.email.display().to_owned(),
        user_id: None,
        changes: Vec::new(),
        user_type: r.user_type,
        reason: None,
    }
}

fn error_row(r: &ImportRow, reason: String) -> PlanRow {
    PlanRow {
        reason: Some(format!("row {}: {reason}", r.row)),
        ..simple(r, Bucket::Error)
    }
}

/// What the row would change on the user. Empty names in the file change nothing: a
/// list without name columns must not blank everyone's names.
fn changes(u: &User, r: &ImportRow) -> Vec<String> {
    let mut out = Vec::new();
    if u.email != r.email.canonical() {
        out.push(format!("address: {} → {}", u.email, r.email.canonical()));
    }
    if !r.first_name.is_empty() && u.first_name != r.first_name {
        out.push(format!("first name: {} → {}", u.first_name, r.first_name));
    }
    if !r.last_name.is_empty() && u.last_name != r.last_name {
        out.push(format!("last name: {} → {}", u.last_name, r.last_name));
    }
    if let Some(t) = r.user_type
        && t != u.user_type
    {
        out.push(format!("type: {} → {t}", u.user_type));
    }
    if u.unique_ref.is_none()
        && let Some(x) = &r.unique_ref
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
