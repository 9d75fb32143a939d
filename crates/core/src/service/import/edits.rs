//! An import's updates and suspensions, written a chunk at a time: each chunk's users are
//! read whole (for undo) in one statement, written in one, and their change records and
//! audit entries inserted in one each. One user at a time cost four to six statements
//! each: 69 s for 100,000 renames on SQLite. A roles workbook's updates, which carry
//! grants, still go one at a time.

use std::collections::BTreeMap;

use serde_json::json;

use super::workbook::grant_json;
use crate::domain::{Timestamp, UserStatus, UserType};
use crate::error::Result;
use crate::import::plan::{AccountState, Known, Outcome, Source, view};
use crate::import::{ImportRow, Parsed};
use crate::service::Usher;
use crate::store::{Account, Change, Grantable, NewAudit, Tx, User, UserEdit};

/// Users per chunk.
const CHUNK: usize = 5_000;

/// What the chunks of one apply share.
pub(super) struct Edits<'a> {
    pub usher: &'a Usher,
    pub account: &'a Account,
    pub batch: i64,
    pub now: Timestamp,
    pub parsed: &'a Parsed,
    pub state: &'a AccountState,
}

/// One change to a user, ready to write.
struct Edit {
    edit: UserEdit,
    /// The record before, as JSON, for undo.
    before: String,
    target: String,
    details: serde_json::Value,
}

/// What is recorded of one change to a user or invitation: its change record and audit
/// entry.
pub(super) struct Logged {
    pub id: i64,
    pub before: String,
    pub target: String,
    pub details: serde_json::Value,
}

impl Edits<'_> {
    /// Updates the users the file changes, each with the type the apply gave it (licences
    /// go in file order); `written(n)` is told after each chunk. Returns how many.
    pub async fn update_all(
        &self,
        tx: &mut Tx,
        updates: &[(&Outcome, UserType)],
        mut written: impl FnMut(usize),
    ) -> Result<usize> {
        let mut done = 0;
        for chunk in updates.chunks(CHUNK) {
            let before = self
                .records(tx, chunk.iter().filter_map(|(o, _)| self.user(o)))
                .await?;
            let edits: Vec<Edit> = chunk
                .iter()
                .filter_map(|(o, user_type)| {
                    let r = match o.source {
                        Source::Row(i) => self.parsed.rows.get(i as usize)?,
                        _ => return None,
                    };
                    let known = self.user(o)?;
                    let u = find(&before, known.id)?;
                    let (first, last, display_name) = updated_names(r, u);
                    let edit = UserEdit {
                        id: u.id,
                        email: r.email().to_owned(),
                        email_display: r.email_display().to_owned(),
                        first_name: first.to_owned(),
                        last_name: last.to_owned(),
                        display_name,
                        unique_ref: r
                            .unique_ref()
                            .or(u.unique_ref.as_deref())
                            .map(str::to_owned),
                        user_type: *user_type,
                        // A sync brings back those it suspended.
                        status: if self.state.revives(known) {
                            UserStatus::Active
                        } else {
                            u.status
                        },
                    };
                    let changes = view(o, self.parsed, self.state).changes;
                    Some(snapshot(u).map(|before| Edit {
                        target: format!("user:{} {}", u.id, r.email()),
                        details: json!({"batch": self.batch, "changes": changes}),
                        before,
                        edit,
                    }))
                })
                .collect::<Result<_>>()?;
            done += edits.len();
            self.write(tx, "update", "user.update", edits).await?;
            written(chunk.len());
        }
        Ok(done)
    }

    /// Suspends those of these users who are active; `written(n)` is told after each
    /// chunk. Returns how many were suspended.
    pub async fn suspend_all(
        &self,
        tx: &mut Tx,
        users: &[&Known],
        mut written: impl FnMut(usize),
    ) -> Result<usize> {
        let mut done = 0;
        for chunk in users.chunks(CHUNK) {
            let before = self.records(tx, chunk.iter().copied()).await?;
            let edits: Vec<Edit> = before
                .iter()
                .filter(|u| u.status == UserStatus::Active)
                .map(|u| Edit {
                    edit: UserEdit {
                        status: UserStatus::Suspended,
                        ..UserEdit::from(u)
                    },
                    before: json!({"status": u.status}).to_string(),
                    target: format!("user:{} {}", u.id, u.email),
                    details: json!({"batch": self.batch}),
                })
                .collect();
            done += edits.len();
            self.write(tx, "suspend", "user.suspend", edits).await?;
            written(chunk.len());
        }
        Ok(done)
    }

    /// Removes these users, keeping each one's record and grants for undo; `written(n)`
    /// is told after each chunk. Returns how many were removed.
    pub async fn remove_all(
        &self,
        tx: &mut Tx,
        users: &[&Known],
        mut written: impl FnMut(usize),
    ) -> Result<usize> {
        let mut done = 0;
        for chunk in users.chunks(CHUNK) {
            let before = self.records(tx, chunk.iter().copied()).await?;
            let ids: Vec<i64> = before.iter().map(|u| u.id).collect();
            // Their grants and profiles go with them. Recorded before the removals, so
            // that undo, which goes last first, gives the users back before them.
            let mut held: BTreeMap<i64, serde_json::Value> = BTreeMap::new();
            for g in tx.grants_of_users(&ids).await? {
                if let Some(id) = g.user_id {
                    let json = grant_json(&Grantable::of(&g), g.mailbox_id);
                    let kept = held.entry(id).or_insert_with(|| json!({"grants": []}));
                    if let Some(list) = kept["grants"].as_array_mut() {
                        list.push(json);
                    }
                }
            }
            for (id, timezone, phone) in tx.profiles_of_users(&ids).await? {
                let kept = held.entry(id).or_insert_with(|| json!({"grants": []}));
                kept["profile"] = json!({"timezone": timezone, "phone": phone});
            }
            let regrants: Vec<(i64, String)> = held
                .into_iter()
                .map(|(id, kept)| (id, kept.to_string()))
                .collect();
            tx.insert_changes(self.batch, "regrant", &regrants).await?;
            done += tx.delete_users(&ids).await? as usize;
            let logged = before
                .iter()
                .map(|u| {
                    Ok(Logged {
                        id: u.id,
                        before: snapshot(u)?,
                        target: format!("user:{} {}", u.id, u.email),
                        details: json!({"batch": self.batch}),
                    })
                })
                .collect::<Result<_>>()?;
            self.log(tx, "remove", "user.remove", logged).await?;
            written(chunk.len());
        }
        Ok(done)
    }

    /// The account user an outcome names.
    fn user(&self, o: &Outcome) -> Option<&Known> {
        o.user().and_then(|i| self.state.users.get(i))
    }

    /// Full records of these users, read now (inside the apply's transaction), by id.
    async fn records<'k>(
        &self,
        tx: &mut Tx,
        users: impl Iterator<Item = &'k Known>,
    ) -> Result<Vec<User>> {
        let ids: Vec<i64> = users.map(|k| k.id).collect();
        tx.users_by_ids(self.account.id, &ids).await
    }

    /// Writes the users, then their change records and audit entries, in that order.
    async fn write(&self, tx: &mut Tx, kind: &str, action: &str, edits: Vec<Edit>) -> Result<()> {
        let (users, logged): (Vec<UserEdit>, Vec<Logged>) = edits
            .into_iter()
            .map(|e| {
                let log = Logged {
                    id: e.edit.id,
                    before: e.before,
                    target: e.target,
                    details: e.details,
                };
                (e.edit, log)
            })
            .unzip();
        tx.set_users_fields(&users, self.now).await?;
        self.log(tx, kind, action, logged).await
    }

    /// The change records and audit entries of changes made to users, in their order.
    pub(super) async fn log(
        &self,
        tx: &mut Tx,
        kind: &str,
        action: &str,
        done: Vec<Logged>,
    ) -> Result<()> {
        self.log_of(tx, kind, action, done, false).await
    }

    /// The same for changes made to pending invitations.
    pub(super) async fn log_invitations(
        &self,
        tx: &mut Tx,
        kind: &str,
        action: &str,
        done: Vec<Logged>,
    ) -> Result<()> {
        self.log_of(tx, kind, action, done, true).await
    }

    async fn log_of(
        &self,
        tx: &mut Tx,
        kind: &str,
        action: &str,
        done: Vec<Logged>,
        invitations: bool,
    ) -> Result<()> {
        let mut changes = Vec::with_capacity(done.len());
        let mut audits = Vec::with_capacity(done.len());
        for l in done {
            changes.push((l.id, l.before));
            audits.push((l.target, l.details));
        }
        if invitations {
            tx.insert_invitation_changes(self.batch, kind, &changes)
                .await?;
        } else {
            tx.insert_changes(self.batch, kind, &changes).await?;
        }
        let (targets, details): (Vec<String>, Vec<serde_json::Value>) = audits.into_iter().unzip();
        let entries: Vec<NewAudit<'_>> = targets
            .iter()
            .zip(details)
            .map(|(target, details)| NewAudit {
                at: self.now,
                actor: &self.usher.actor,
                action,
                target,
                details,
            })
            .collect();
        tx.append_audit_many(&entries).await
    }
}

/// A record as undo keeps it, as JSON. One that cannot be written refuses the apply:
/// undo data is never stored empty.
pub(super) fn snapshot<T: serde::Serialize>(record: &T) -> Result<String> {
    serde_json::to_string(record)
        .map_err(|e| crate::error::Error::corrupt("a record kept for undo", e))
}

/// The names an update gives a user: the row's, or theirs where the row has none, and
/// the display name made of them.
pub(super) fn updated_names<'a>(r: &'a ImportRow, u: &'a User) -> (&'a str, &'a str, String) {
    let first = if r.first_name().is_empty() {
        u.first_name.as_str()
    } else {
        r.first_name()
    };
    let last = if r.last_name().is_empty() {
        u.last_name.as_str()
    } else {
        r.last_name()
    };
    (first, last, format!("{first} {last}").trim().to_owned())
}

/// The record with this id in records sorted by id.
fn find(records: &[User], id: i64) -> Option<&User> {
    records
        .binary_search_by_key(&id, |u| u.id)
        .ok()
        .and_then(|i| records.get(i))
}

/// Undo of a run of updates or removals: each user as it was before, brought back if
/// removed.
/// Returns how many.
pub(super) async fn restore(
    tx: &mut Tx,
    account_id: i64,
    changes: &[Change],
    now: Timestamp,
) -> Result<usize> {
    let before: Vec<User> = changes
        .iter()
        .filter_map(|c| serde_json::from_str(&c.before).ok())
        .collect();
    let ids: Vec<i64> = before.iter().map(|u| u.id).collect();
    let mut present: Vec<i64> = tx
        .users_by_ids(account_id, &ids)
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    present.sort_unstable();
    let (there, gone): (Vec<&User>, Vec<&User>) = before
        .iter()
        .partition(|u| present.binary_search(&u.id).is_ok());
    let edits: Vec<UserEdit> = there.into_iter().map(UserEdit::from).collect();
    tx.set_users_fields(&edits, now).await?;
    tx.restore_users(account_id, &gone, now).await?;
    Ok(before.len())
}

/// Undo of a run of suspensions: those users active again. Returns how many.
pub(super) async fn reactivate(
    tx: &mut Tx,
    account_id: i64,
    changes: &[Change],
    now: Timestamp,
) -> Result<usize> {
    let ids: Vec<i64> = changes.iter().filter_map(|c| c.user_id).collect();
    let edits: Vec<UserEdit> = tx
        .users_by_ids(account_id, &ids)
        .await?
        .iter()
        .map(|u| UserEdit {
            status: UserStatus::Active,
            ..UserEdit::from(u)
        })
        .collect();
    tx.set_users_fields(&edits, now).await?;
    Ok(edits.len())
}
