//! One pass over the file's rows in order: licences given out as the file goes, the
//! rows written at once where they must be (users created with a password, a roles
//! workbook's rows, which carry grants), and the rest gathered to be written in chunks.

use std::collections::HashMap;

use serde_json::json;

use super::choice::Choice;
use super::edits::{Edits, updated_names};
use super::invites::Invite;
use super::options::ApplyOutcome;
use super::workbook::Resolver;
use crate::domain::{UserStatus, UserType};
use crate::error::{Error, Result};
use crate::import::plan::{
    Bucket, DEFAULT_TYPE, Invited, Known, Outcome, Outcomes, replaces, view,
};
use crate::import::{ImportRow, Progress, Stage};
use crate::store::{NewUser, Tx, UserFields};

/// The professional licences left as an apply goes through the file in order, and how
/// many professionals became guests for want of one.
struct Free {
    left: i64,
    guests: usize,
}

impl Free {
    /// The type a user gets: a professional who needs a licence takes one, or becomes a
    /// guest when none is left (apply refused that earlier unless the operator chose it).
    fn give(&mut self, wanted: UserType, needs_licence: bool) -> UserType {
        if wanted != UserType::Professional || !needs_licence {
            wanted
        } else if self.left > 0 {
            self.left -= 1;
            wanted
        } else {
            self.guests += 1;
            UserType::Guest
        }
    }
}

/// How far the apply has got, told to the operator's progress bar.
pub(super) struct Ticker<'p> {
    pub done: u64,
    pub work: u64,
    pub progress: &'p Progress,
}

impl Ticker<'_> {
    pub fn tick(&mut self, n: usize) {
        self.done += n as u64;
        self.progress
            .tick(Stage::Applying, self.done, Some(self.work));
    }
}

/// What the pass gathered, to be written after it in chunks.
#[derive(Default)]
pub(super) struct Work<'a> {
    /// New invitations, and those sent again (new address, expired), with their types.
    pub invitations: Vec<Invite<'a>>,
    /// Pending invitations the file changes in place.
    pub changed: Vec<(&'a Outcome, UserType)>,
    /// Pending invitations replaced by a new one.
    pub replaced: Vec<&'a Invited>,
    /// Users the file updates.
    pub updates: Vec<(&'a Outcome, UserType)>,
    /// People a sync creates directly (docs/sync.md#the-plan), with their types.
    pub direct: Vec<(&'a ImportRow, UserType)>,
}

/// What rows written at once need: the passwords hashed before the lock, and the
/// workbook's roles and permissions resolved.
pub(super) struct Direct<'h> {
    pub hashes: &'h HashMap<u64, String>,
    pub resolver: Resolver,
}

impl<'a> Edits<'a> {
    /// The pass over the rows the apply carries out, in file order.
    pub(super) async fn write_rows(
        &self,
        tx: &mut Tx,
        choice: &Choice<'a>,
        plan: &'a Outcomes,
        direct: &mut Direct<'_>,
        out: &mut ApplyOutcome,
        ticker: &mut Ticker<'_>,
    ) -> Result<Work<'a>> {
        let mut free = Free {
            left: self.state.seats.map_or(0, |s| s.free()),
            guests: 0,
        };
        let mut work = Work::default();
        for o in plan.list.iter().filter(|o| choice.applies(o)) {
            let row = choice.row_of(o);
            if !row.is_some_and(|r| choice.later(o, r)) {
                ticker.tick(1);
            }
            let Some(r) = row else {
                continue;
            };
            match (o.bucket, choice.user_of(o)) {
                (Bucket::Updated, None) => {
                    let Some(inv) = choice.invitation_of(o) else {
                        continue;
                    };
                    let user_type = free.give(
                        r.user_type.unwrap_or(inv.user_type),
                        inv.expired || inv.user_type == UserType::Guest,
                    );
                    if replaces(inv, r) {
                        work.replaced.push(inv);
                        work.invitations.push(Invite {
                            row: r,
                            user_type,
                            replaces: Some(inv),
                        });
                    } else {
                        work.changed.push((o, user_type));
                    }
                }
                (Bucket::Updated, Some(k)) if !choice.workbook => {
                    let user_type = free.give(
                        r.user_type.unwrap_or(k.user_type),
                        (k.user_type == UserType::Guest && k.status == UserStatus::Active)
                            || self.state.revives(k),
                    );
                    work.updates.push((o, user_type));
                }
                (Bucket::Updated, Some(k)) => {
                    out.updated += self.update_one(tx, o, r, k, direct, &mut free).await?;
                }
                (Bucket::New | Bucket::OutsideDomains, _) => {
                    let wanted = if o.bucket == Bucket::OutsideDomains {
                        UserType::Guest
                    } else {
                        r.user_type.unwrap_or(DEFAULT_TYPE)
                    };
                    let user_type = free.give(wanted, true);
                    if self.state.creates_directly() && r.password.is_none() {
                        work.direct.push((r, user_type));
                        continue;
                    }
                    if r.password.is_some() || choice.workbook {
                        out.created += self.create_one(tx, r, user_type, direct).await?;
                        continue;
                    }
                    work.invitations.push(Invite {
                        row: r,
                        user_type,
                        replaces: None,
                    });
                }
                _ => {}
            }
        }
        out.invited_as_guests += free.guests;
        Ok(work)
    }

    /// A workbook's update, written at once with its grants. The full record is read
    /// now, for undo, one user at a time, so that a plan over a million users never
    /// holds a million records. Returns how many were updated (0 or 1).
    async fn update_one(
        &self,
        tx: &mut Tx,
        o: &Outcome,
        r: &ImportRow,
        k: &Known,
        direct: &mut Direct<'_>,
        free: &mut Free,
    ) -> Result<usize> {
        let Some(u) = tx.user_by_id(self.account.id, k.id).await? else {
            return Ok(0);
        };
        let user_type = free.give(
            r.user_type.unwrap_or(u.user_type),
            u.user_type == UserType::Guest && u.status == UserStatus::Active,
        );
        let (first, last, display) = updated_names(r, &u);
        let fields = UserFields {
            email: r.email(),
            email_display: r.email_display(),
            first_name: first,
            last_name: last,
            display_name: &display,
            unique_ref: r.unique_ref().or(u.unique_ref.as_deref()),
            user_type,
            status: u.status,
        };
        tx.set_user_fields(u.id, &fields, self.now).await?;
        let before =
            serde_json::to_value(&u).map_err(|e| Error::corrupt("a record kept for undo", e))?;
        tx.insert_change(self.batch, "update", Some(u.id), None, &before)
            .await?;
        let changes = view(o, self.parsed, self.state).changes;
        let target = format!("user:{} {}", u.id, r.email());
        let details = json!({"batch": self.batch, "changes": changes});
        self.record(tx, "user.update", &target, details).await?;
        self.workbook_row(tx, u.id, r, false, direct).await?;
        Ok(1)
    }

    /// A user created active at once: with the file's password, or from a workbook (with
    /// its grants). Returns how many were created (0 or 1).
    async fn create_one(
        &self,
        tx: &mut Tx,
        r: &ImportRow,
        user_type: UserType,
        direct: &mut Direct<'_>,
    ) -> Result<usize> {
        let phc = direct.hashes.get(&r.row);
        if r.password.is_some() && phc.is_none() {
            return Ok(0);
        }
        let id = tx
            .insert_user(&NewUser {
                account_id: self.account.id,
                email: r.email(),
                email_display: r.email_display(),
                first_name: r.first_name(),
                last_name: r.last_name(),
                unique_ref: r.unique_ref(),
                user_type,
                status: UserStatus::Active,
                now: self.now,
            })
            .await?;
        if let Some(phc) = phc {
            tx.set_password_hash(id, phc, r.force_change_password)
                .await?;
        }
        tx.insert_change(self.batch, "create", Some(id), None, &json!({}))
            .await?;
        self.workbook_row(tx, id, r, true, direct).await?;
        let details = json!({"batch": self.batch, "user_type": user_type,
            "with_password": phc.is_some(), "corporate": self.parsed.workbook.is_some()});
        let target = format!("user:{id} {}", r.email());
        self.record(tx, "user.create", &target, details).await?;
        Ok(1)
    }

    async fn workbook_row(
        &self,
        tx: &mut Tx,
        user_id: i64,
        r: &ImportRow,
        created: bool,
        direct: &mut Direct<'_>,
    ) -> Result<()> {
        self.usher
            .apply_workbook_row(
                tx,
                self.account,
                self.batch,
                user_id,
                r,
                self.parsed,
                created,
                &mut direct.resolver,
                self.now,
            )
            .await
    }

    /// This operator's audit entry, stamped with the apply's time.
    async fn record(
        &self,
        tx: &mut Tx,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        self.usher
            .record(tx, self.now, action, target, details)
            .await
    }
}
