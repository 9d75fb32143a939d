//! The account's side of an import's plan: its users in the compact form the plan needs,
//! and the index that finds them by address or reference.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use super::person::Person;
use crate::domain::licence::Seats;
use crate::domain::{UserStatus, UserType};

/// No position: 4 bytes where an `Option<u32>` takes 8, a million times over.
pub(super) const NONE: u32 = u32::MAX;

pub(super) fn position(p: u32) -> Option<usize> {
    (p != NONE).then_some(p as usize)
}

/// A user of the account as the plan needs them, its strings in one block (`Person`, read
/// through it): a million users take about 100 MB instead of the 400 of full records.
#[derive(Debug, Clone)]
pub struct Known {
    pub id: i64,
    person: Person,
    pub user_type: UserType,
    pub status: UserStatus,
}

impl Known {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: i64,
        email: &str,
        email_display: &str,
        first_name: &str,
        last_name: &str,
        unique_ref: Option<&str>,
        user_type: UserType,
        status: UserStatus,
    ) -> Self {
        Self {
            id,
            person: Person::new(email, email_display, first_name, last_name, unique_ref),
            user_type,
            status,
        }
    }
}

impl std::ops::Deref for Known {
    type Target = Person;

    fn deref(&self) -> &Person {
        &self.person
    }
}

/// A pending invitation as an import's plan reads it. `expired`: its link no longer works
/// and it holds no licence.
#[derive(Debug, Clone, Copy)]
pub struct PendingRow<'a> {
    pub id: i64,
    pub email: &'a str,
    pub email_display: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub unique_ref: Option<&'a str>,
    pub user_type: UserType,
    pub expired: bool,
}

/// A pending invitation as the plan needs it: matched like a user, by reference first,
/// so that a second export changes it instead of inviting the person again.
#[derive(Debug, Clone)]
pub struct Invited {
    pub id: i64,
    person: Person,
    pub user_type: UserType,
    /// Its link no longer works and it holds no licence: a row for it invites again.
    pub expired: bool,
}

impl Invited {
    pub fn new(p: PendingRow<'_>) -> Self {
        Self {
            id: p.id,
            person: Person::new(
                p.email,
                p.email_display,
                p.first_name,
                p.last_name,
                p.unique_ref,
            ),
            user_type: p.user_type,
            expired: p.expired,
        }
    }
}

impl std::ops::Deref for Invited {
    type Target = Person;

    fn deref(&self) -> &Person {
        &self.person
    }
}

/// What the account holds now, as the plan needs it.
#[derive(Debug, Default)]
pub struct AccountState {
    pub users: Vec<Known>,
    /// Pending invitations, expired ones too.
    pub pending: Vec<Invited>,
    pub domains: Vec<String>,
    pub seats: Option<Seats>,
    /// For a roles workbook: the grants its existing users hold now, by user id, as
    /// lower-case labels ("editor on sales@acme.test").
    pub held: HashMap<i64, HashSet<String>>,
    /// Set for a directory sync: what the source did before (docs/sync.md).
    pub sync: Option<SyncState>,
}

/// What a directory sync's plan knows beyond a file import's: people disabled at the
/// source are suspended, and those the source suspended come back when it enables them.
#[derive(Debug, Clone, Default)]
pub struct SyncState {
    /// The source's name, as its grants are recorded.
    pub source: String,
    /// Only the entries changed since the last run were read: no one is missing.
    pub partial: bool,
    /// New people are created at once as corporate users and mailed a link to choose
    /// their password, rather than invited.
    pub create_direct: bool,
    /// The users this source suspended (and so may reactivate), by id.
    pub held: HashSet<i64>,
    /// What becomes of users the directory no longer holds.
    pub leavers: crate::config::Leavers,
    /// Never suspended or removed by a run: the operator and the Administrators.
    pub spared: HashSet<i64>,
    /// By row: the roles the entry's groups give.
    pub wanted: HashMap<u64, Vec<GroupGrant>>,
    /// Every role each user holds now, as (role, mailbox; 0 for the account).
    pub roles: HashMap<i64, HashSet<(i64, i64)>>,
    /// The roles this source gave each user that they still hold.
    pub given: HashMap<i64, Vec<GroupGrant>>,
    /// The Administrator role, and the users who never lose it to a run: the first
    /// user and the operator, so that the account always keeps one.
    pub admin_role: Option<i64>,
    pub keep_admin: HashSet<i64>,
}

/// A role a sync gives for a group, at account scope (mailbox 0) or on a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupGrant {
    pub role_id: i64,
    pub mailbox_id: i64,
    /// "Editor on sales@acme.test", as the preview shows it.
    pub label: String,
    /// Whether a guest may hold it (its permissions are all a guest's).
    pub guests: bool,
}

impl GroupGrant {
    pub fn key(&self) -> (i64, i64) {
        (self.role_id, self.mailbox_id)
    }
}

/// What a row's groups change in a user's roles: those gained, and those the source
/// gave that the groups no longer give.
#[derive(Debug, Default)]
pub struct RoleChanges<'a> {
    pub gained: Vec<&'a GroupGrant>,
    pub lost: Vec<&'a GroupGrant>,
}

impl AccountState {
    /// Whether a row for this user, enabled at the source, reactivates them: the source
    /// suspended them, and no one has changed them since.
    pub fn revives(&self, u: &Known) -> bool {
        u.status == UserStatus::Suspended
            && self.sync.as_ref().is_some_and(|s| s.held.contains(&u.id))
    }

    /// What the groups of row `row` change in `user`'s roles, for a sync; nothing
    /// for a file.
    /// A guest gains only the roles a guest may hold.
    pub fn role_changes(&self, user: &Known, row: u64) -> RoleChanges<'_> {
        let Some(sync) = &self.sync else {
            return RoleChanges::default();
        };
        let wanted = sync.wanted.get(&row).map_or(&[][..], Vec::as_slice);
        let held = sync.roles.get(&user.id);
        let given = sync.given.get(&user.id).map_or(&[][..], Vec::as_slice);
        let guest = user.user_type == UserType::Guest;
        RoleChanges {
            gained: wanted
                .iter()
                .filter(|g| held.is_none_or(|h| !h.contains(&g.key())))
                .filter(|g| g.guests || !guest)
                .collect(),
            lost: given
                .iter()
                .filter(|g| !wanted.iter().any(|w| w.key() == g.key()))
                .filter(|g| {
                    !(Some(g.role_id) == sync.admin_role && sync.keep_admin.contains(&user.id))
                })
                .collect(),
        }
    }

    /// Whether new people are created directly (a sync whose source says so).
    pub fn creates_directly(&self) -> bool {
        self.sync.as_ref().is_some_and(|s| s.create_direct)
    }

    /// Whether a run spares this user (the operator, an Administrator).
    pub fn spares(&self, id: i64) -> bool {
        self.sync.as_ref().is_some_and(|s| s.spared.contains(&id))
    }

    /// Whether people disabled at the source are suspended (a sync), rather than left
    /// as they are (a file).
    pub fn suspends_disabled(&self) -> bool {
        self.sync.is_some()
    }
}

/// Finds a user by address or reference: (hash, position) pairs sorted by hash, 16 bytes
/// a user where a `HashMap<&str, usize>` takes about 50.
pub(super) struct KeyIndex {
    hasher: RandomState,
    keys: Vec<(u64, u32)>,
}

impl KeyIndex {
    pub(super) fn new<'a>(keys: impl Iterator<Item = (usize, &'a str)>) -> Self {
        let hasher = RandomState::new();
        let mut list: Vec<(u64, u32)> = keys.map(|(i, k)| (hasher.hash_one(k), i as u32)).collect();
        list.sort_unstable();
        Self { hasher, keys: list }
    }

    /// The positions for `n` keys at once (`key(i)` is the `i`th, if any), `NONE` where
    /// there is none. The keys are hashed, sorted and merged with the index, so that a
    /// million lookups walk memory in order instead of binary-searching it at random.
    /// `is(i, p)` confirms that position `p` holds key `i` (hashes can collide).
    pub(super) fn find_all<'a>(
        &self,
        n: usize,
        key: impl Fn(usize) -> Option<&'a str>,
        is: impl Fn(usize, usize) -> bool,
    ) -> Vec<u32> {
        let mut queries: Vec<(u64, u32)> = (0..n)
            .filter_map(|i| key(i).map(|k| (self.hasher.hash_one(k), i as u32)))
            .collect();
        queries.sort_unstable();
        let mut out = vec![NONE; n];
        let mut j = 0;
        for (h, i) in queries {
            while self.keys.get(j).is_some_and(|(k, _)| *k < h) {
                j += 1;
            }
            out[i as usize] = self.keys[j.min(self.keys.len())..]
                .iter()
                .take_while(|(k, _)| *k == h)
                .map(|(_, p)| *p)
                .find(|p| is(i as usize, *p as usize))
                .unwrap_or(NONE);
        }
        out
    }
}
