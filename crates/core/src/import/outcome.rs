//! What the plan keeps of each row or user (an `Outcome`, 16 bytes), where it comes
//! from, and the line and licence check it shows.

use serde::Serialize;

use super::account::{NONE, position};
use super::bucket::Bucket;
use crate::domain::UserType;

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

/// The type a new user gets when the file does not say: professional, as staff lists are.
pub const DEFAULT_TYPE: UserType = UserType::Professional;
