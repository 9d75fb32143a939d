//! Applying an import (docs/rules.md#import), its history, and undo. One
//! transaction each: a failure leaves the database as it was.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use super::Usher;
use super::import_edits::{Edits, updated_names};
use super::import_invites::{Invite, Invites};
use super::import_pending::Why;
use super::invite::seats;
use crate::domain::licence::SeatsExhausted;
use crate::domain::{Permission, Timestamp, UserStatus, UserType};
use crate::error::{Error, Result};
use crate::import::plan::{
    AccountState, Bucket, DEFAULT_TYPE, Invited, Known, Outcome, Source, outcomes, replaces, view,
};
use crate::import::{ImportRow, Parsed, Progress, Stage};
use crate::store::{Account, Batch, NewAudit, NewUser, Tx, User, UserFields};

/// What happens to users in the account that the file does not mention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    #[default]
    Keep,
    Suspend,
    Remove,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub missing: Missing,
    /// New professionals beyond the free licences are imported as guests.
    pub overflow_as_guests: bool,
    /// Addresses outside the account's domains are invited too (as guests).
    pub include_outside: bool,
    /// The previewed plan's digest: if the plan differs now, nothing is applied.
    pub expect_digest: Option<String>,
    /// Buckets left out (the operator leaves out what should not happen).
    pub skip: Vec<Bucket>,
    /// Rows left out: inclusive ranges of the file's row numbers.
    pub exclude_rows: Vec<(u64, u64)>,
    /// Users missing from the file left as they are, by address (they have no row).
    pub exclude_emails: Vec<String>,
    /// Apply the good rows and leave the faulty ones out, on purpose: without it a
    /// single faulty row refuses the whole file.
    pub skip_errors: bool,
    pub file_name: String,
    pub file_sha256: String,
    /// Told of the rows applied.
    pub progress: Progress,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyOutcome {
    pub batch_id: i64,
    pub invited: usize,
    /// Created active with the file's password, without an invitation
    /// (docs/rules.md#import).
    pub created: usize,
    pub invited_as_guests: usize,
    pub updated: usize,
    pub suspended: usize,
    pub removed: usize,
    /// Users a roles workbook left out for faults (docs/rules.md#import).
    pub left_out: usize,
    /// Pending invitations replaced by a new one (a new address under the same unique
    /// reference, or an expired link): the old link dead, a new one mailed. Not counted
    /// in `invited`.
    pub reinvited: usize,
    /// Pending invitations whose names, type or reference the file changed.
    pub invitations_updated: usize,
    /// Pending invitations of people missing from the file, revoked by the missing-users
    /// decision.
    pub invitations_revoked: usize,
}

/// The counts that are not zero, each as "what N" (or "N what", `count_first`).
pub(super) fn said(parts: &[(usize, &str)], count_first: bool) -> Vec<String> {
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match count_first {
            true => format!("{n} {what}"),
            false => format!("{what} {n}"),
        })
        .collect()
}

impl ApplyOutcome {
    /// What the apply did, in one line (the console's and the command line's report):
    /// the counts that are not zero.
    pub fn summary(&self) -> String {
        let mut users = said(
            &[
                (self.invited, "invited"),
                (self.created, "created"),
                (self.updated, "updated"),
                (self.suspended, "suspended"),
                (self.removed, "removed"),
            ],
            false,
        );
        if self.invited_as_guests > 0
            && let Some(first) = users.first_mut()
        {
            first.push_str(&format!(
                " ({} as guests for want of licences)",
                self.invited_as_guests
            ));
        }
        let pending = said(
            &[
                (self.reinvited, "sent again (new address or expired)"),
                (self.invitations_updated, "changed"),
                (self.invitations_revoked, "revoked (missing from the file)"),
            ],
            true,
        );
        if !pending.is_empty() {
            users.push(format!("pending invitations {}", pending.join(", ")));
        }
        if users.is_empty() {
            "nothing changed".to_owned()
        } else {
            users.join(", ")
        }
    }
}

/// A user's current fields, to change one or two and write back.
pub(super) fn fields(u: &User) -> UserFields<'_> {
    UserFields {
        email: &u.email,
        email_display: &u.email_display,
        first_name: &u.first_name,
        last_name: &u.last_name,
        display_name: &u.display_name,
        unique_ref: u.unique_ref.as_deref(),
        user_type: u.user_type,
        status: u.status,
    }
}

/// The professional licences left as an apply goes through the file in order.
struct Free(i64);

impl Free {
    /// The type a user gets: a professional who needs a licence takes one, or becomes a
    /// guest when none is left (counted in `guests`; apply refused that earlier unless
    /// the operator chose it).
    fn give(&mut self, wanted: UserType, needs_licence: bool, guests: &mut usize) -> UserType {
        if wanted != UserType::Professional || !needs_licence {
            wanted
        } else if self.0 > 0 {
            self.0 -= 1;
            wanted
        } else {
            *guests += 1;
            UserType::Guest
        }
    }
}

/// A user not on a verified, active domain refuses the whole workbook
/// (docs/rules.md#import), naming every one of them.
fn refuse_outside(list: &[Outcome], parsed: &Parsed) -> Result<()> {
    let outside: Vec<String> = list
        .iter()
        .filter(|o| o.bucket == Bucket::OutsideDomains)
        .filter_map(|o| match o.source {
            Source::Row(i) => parsed.rows.get(i as usize),
            _ => None,
        })
        .map(|r| format!("{} (Users row {})", r.email_display(), r.row))
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "the workbook is refused whole: {} user(s) are not on a verified, active domain of \
         the account: {}; nothing was applied (add and verify the domain, or take them out)",
        outside.len(),
        outside.join(", ")
    )))
}

impl Usher {
    /// A workbook creates users directly and may grant; any import may make personal
    /// mailboxes: the operator needs each of those permissions too.
    async fn also_allowed(&self, tx: &mut Tx, account: &Account, parsed: &Parsed) -> Result<()> {
        if parsed.workbook.is_some() {
            self.require(tx, account, Permission::CreateUsers).await?;
        }
        if parsed
            .workbook
            .as_ref()
            .is_some_and(|b| !b.grants.is_empty())
        {
            self.require(tx, account, Permission::ManageRoles).await?;
        }
        if parsed.rows.iter().any(|r| r.personal_mailbox) {
            self.require(tx, account, Permission::ManageMailboxes)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn account_state(
        &self,
        tx: &mut Tx,
        account: &Account,
        now: Timestamp,
    ) -> Result<AccountState> {
        let mut pending = Vec::new();
        tx.pending_invitations(account.id, now, |p| pending.push(Invited::new(p)))
            .await?;
        let state = AccountState {
            users: tx.import_keys(account.id).await?,
            pending,
            domains: tx.domain_names(account.id).await?,
            seats: Some(seats(tx, account, now).await?),
            held: HashMap::new(),
        };
        tx.release_memory().await?;
        Ok(state)
    }

    /// Applies the import whole or not at all.
    pub async fn import_apply(&self, parsed: &Parsed, opts: &ApplyOptions) -> Result<ApplyOutcome> {
        // argon2 is slow on purpose: hash before taking the account's lock.
        let mut hashes: HashMap<u64, String> = HashMap::new();
        for r in parsed.rows.iter() {
            if let Some(pw) = &r.password {
                let phc = crate::domain::password::hash_password(pw)
                    .map_err(|e| Error::invalid("password", e.to_string()))?;
                hashes.insert(r.row, phc);
            }
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ImportUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let mut state = self.account_state(&mut tx, &account, now).await?;
        let checked = self
            .check_workbook(&mut tx, &account, parsed, &state)
            .await?;
        state.held = checked.held;
        let mut resolver = checked.resolver;
        let parsed: &Parsed = checked.parsed.as_ref().unwrap_or(parsed);
        let workbook = parsed.workbook.is_some();
        self.also_allowed(&mut tx, &account, parsed).await?;
        let plan = outcomes(parsed, &state);
        if let Some(expected) = &opts.expect_digest
            && *expected != plan.digest
        {
            let counts: Vec<String> = plan
                .counts
                .iter()
                .map(|(b, n)| format!("{n} {}", b.label()))
                .collect();
            return Err(Error::Conflict(format!(
                "the account changed since the preview (another admin?); nothing was applied. Now: {}. Preview again (digest {})",
                counts.join(", "),
                plan.digest
            )));
        }
        let errors = plan.counts.get(&Bucket::Error).copied().unwrap_or(0);
        // A workbook leaves out the users at fault and says so (docs/rules.md#import); any
        // other file is applied whole or not at all.
        if errors > 0 && !workbook && !opts.skip_errors {
            return Err(Error::Conflict(format!(
                "{errors} row(s) cannot be imported; nothing was applied (--skip-errors \
                 applies the others and leaves these out)"
            )));
        }
        let row_of = |o: &Outcome| match o.source {
            Source::Row(i) => parsed.rows.get(i as usize),
            _ => None,
        };
        let user_of = |o: &Outcome| o.user().and_then(|i| state.users.get(i));
        // Addresses as typed or canonical, in any case (Unicode too: a user left alone
        // must never be suspended for want of a case match).
        let left_alone: std::collections::HashSet<String> = opts
            .exclude_emails
            .iter()
            .map(|e| e.trim().to_lowercase())
            .collect();
        let excluded = |o: &Outcome| {
            let person = user_of(o).map(|u| &**u).or(o
                .invitation()
                .and_then(|i| state.pending.get(i))
                .map(|i| &**i));
            match (row_of(o), person) {
                (Some(r), _) => opts
                    .exclude_rows
                    .iter()
                    .any(|(a, b)| (*a..=*b).contains(&r.row)),
                (None, Some(p)) => {
                    left_alone.contains(&p.email_display().to_lowercase())
                        || left_alone.contains(p.email())
                }
                _ => false,
            }
        };
        let applies = |o: &Outcome| {
            let b = o.bucket;
            (b == Bucket::New
                || b == Bucket::Updated
                || (opts.include_outside && b == Bucket::OutsideDomains))
                && !opts.skip.contains(&b)
                && !excluded(o)
        };
        let deciding = |o: &Outcome| {
            opts.missing != Missing::Keep
                && !opts.skip.contains(&Bucket::Missing)
                && o.bucket == Bucket::Missing
                && !excluded(o)
        };
        let total = state.seats.map_or(0, |s| s.total);
        let mut free = Free(state.seats.map_or(0, |s| s.free()));
        if plan.licences.short_by > 0 && !opts.overflow_as_guests {
            return Err(SeatsExhausted {
                seats: state
                    .seats
                    .unwrap_or(crate::domain::licence::Seats { used: 0, total }),
                wanted: plan.licences.wanted,
            }
            .into());
        }
        if workbook {
            refuse_outside(&plan.list, parsed)?;
        }
        // Sending a pending invitation again (new address, or expired) is inviting too.
        let sends_again = |o: &Outcome| {
            let inv = o.invitation().and_then(|i| state.pending.get(i));
            o.bucket == Bucket::Updated && inv.zip(row_of(o)).is_some_and(|(i, r)| replaces(i, r))
        };
        let inviting = !workbook
            && plan.list.iter().filter(|o| applies(o)).any(|o| {
                o.bucket == Bucket::New || o.bucket == Bucket::OutsideDomains || sends_again(o)
            });
        if inviting {
            self.may_invite(&mut tx, &account).await?;
        }
        let counts = serde_json::to_string(&plan.counts).unwrap_or_default();
        let batch = tx
            .insert_batch(
                account.id,
                now,
                &self.actor,
                &opts.file_name,
                &opts.file_sha256,
                &counts,
            )
            .await?;
        let mut out = ApplyOutcome {
            batch_id: batch,
            left_out: errors,
            ..Default::default()
        };
        let days = account.invite_validity_days;
        let expires_at = now.plus_days(days);
        let templates = self.templates_in(&mut tx, account.id).await?;
        let invites = Invites::new(self, &account, batch, now, expires_at, &templates);
        let work = plan
            .list
            .iter()
            .filter(|o| applies(o) || deciding(o))
            .count() as u64;
        let mut done = 0u64;
        // Invitations are written after the rest, in address order, so that the index of
        // pending addresses grows in order rather than at random places (a tenth of a
        // million-row apply on PostgreSQL). Licences are given out here, in file order.
        let mut invitations: Vec<Invite> = Vec::new();
        // Pending invitations the file changes in place, and those it replaces.
        let mut changed: Vec<(&Outcome, UserType)> = Vec::new();
        let mut replaced: Vec<&Invited> = Vec::new();
        // Updates too are written after this loop, a chunk at a time (`import_edits`),
        // but for a workbook's, which carry grants.
        let mut updates: Vec<(&Outcome, UserType)> = Vec::new();
        let later = |o: &Outcome, r: &ImportRow| {
            let invite =
                matches!(o.bucket, Bucket::New | Bucket::OutsideDomains) && r.password.is_none();
            !workbook && (invite || o.bucket == Bucket::Updated)
        };
        let invitation_of = |o: &Outcome| o.invitation().and_then(|i| state.pending.get(i));

        for o in plan.list.iter().filter(|o| applies(o)) {
            let row = row_of(o);
            if !row.is_some_and(|r| later(o, r)) {
                done += 1;
                opts.progress.tick(Stage::Applying, done, Some(work));
            }
            let Some(r) = row else {
                continue;
            };
            match (o.bucket, user_of(o)) {
                (Bucket::Updated, None) => {
                    let Some(inv) = invitation_of(o) else {
                        continue;
                    };
                    let user_type = free.give(
                        r.user_type.unwrap_or(inv.user_type),
                        inv.expired || inv.user_type == UserType::Guest,
                        &mut out.invited_as_guests,
                    );
                    if replaces(inv, r) {
                        replaced.push(inv);
                        invitations.push(Invite {
                            row: r,
                            user_type,
                            replaces: Some(inv),
                        });
                    } else {
                        changed.push((o, user_type));
                    }
                }
                (Bucket::Updated, Some(k)) if !workbook => {
                    let user_type = free.give(
                        r.user_type.unwrap_or(k.user_type),
                        k.user_type == UserType::Guest && k.status == UserStatus::Active,
                        &mut out.invited_as_guests,
                    );
                    updates.push((o, user_type));
                }
                (Bucket::Updated, Some(k)) => {
                    // The full record, for undo: read now, one user at a time, so that a
                    // plan over a million users never holds a million records.
                    let Some(u) = tx.user_by_id(account.id, k.id).await? else {
                        continue;
                    };
                    let user_type = free.give(
                        r.user_type.unwrap_or(u.user_type),
                        u.user_type == UserType::Guest && u.status == UserStatus::Active,
                        &mut out.invited_as_guests,
                    );
                    let (first, last, display) = updated_names(r, &u);
                    tx.set_user_fields(
                        u.id,
                        &UserFields {
                            email: r.email(),
                            email_display: r.email_display(),
                            first_name: first,
                            last_name: last,
                            display_name: &display,
                            unique_ref: r.unique_ref().or(u.unique_ref.as_deref()),
                            user_type,
                            status: u.status,
                        },
                        now,
                    )
                    .await?;
                    tx.insert_change(
                        batch,
                        "update",
                        Some(u.id),
                        None,
                        &serde_json::to_value(&u)
                            .map_err(|e| Error::Task(format!("keeping a record for undo: {e}")))?,
                    )
                    .await?;
                    let changes = view(o, parsed, &state).changes;
                    self.record(
                        &mut tx,
                        now,
                        "user.update",
                        &format!("user:{} {}", u.id, r.email()),
                        json!({"batch": batch, "changes": changes}),
                    )
                    .await?;
                    self.apply_workbook_row(
                        &mut tx,
                        &account,
                        batch,
                        u.id,
                        r,
                        parsed,
                        false,
                        &mut resolver,
                        now,
                    )
                    .await?;
                    out.updated += 1;
                }
                (Bucket::New | Bucket::OutsideDomains, _) => {
                    let wanted = if o.bucket == Bucket::OutsideDomains {
                        UserType::Guest
                    } else {
                        r.user_type.unwrap_or(DEFAULT_TYPE)
                    };
                    let user_type = free.give(wanted, true, &mut out.invited_as_guests);
                    if r.password.is_some() || workbook {
                        let phc = hashes.get(&r.row);
                        if r.password.is_some() && phc.is_none() {
                            continue;
                        }
                        let id = tx
                            .insert_user(&NewUser {
                                account_id: account.id,
                                email: r.email(),
                                email_display: r.email_display(),
                                first_name: r.first_name(),
                                last_name: r.last_name(),
                                unique_ref: r.unique_ref(),
                                user_type,
                                status: UserStatus::Active,
                                now,
                            })
                            .await?;
                        if let Some(phc) = phc {
                            tx.set_password_hash(id, phc, r.force_change_password)
                                .await?;
                        }
                        tx.insert_change(batch, "create", Some(id), None, &json!({}))
                            .await?;
                        self.apply_workbook_row(
                            &mut tx,
                            &account,
                            batch,
                            id,
                            r,
                            parsed,
                            true,
                            &mut resolver,
                            now,
                        )
                        .await?;
                        self.record(
                            &mut tx,
                            now,
                            "user.create",
                            &format!("user:{id} {}", r.email()),
                            json!({"batch": batch, "user_type": user_type,
                                "with_password": phc.is_some(), "corporate": workbook}),
                        )
                        .await?;
                        out.created += 1;
                        continue;
                    }
                    invitations.push(Invite {
                        row: r,
                        user_type,
                        replaces: None,
                    });
                }
                _ => {}
            }
        }
        let edits = Edits {
            usher: self,
            account: &account,
            batch,
            now,
            parsed,
            state: &state,
        };
        out.updated += edits
            .update_all(&mut tx, &updates, |n| {
                done += n as u64;
                opts.progress.tick(Stage::Applying, done, Some(work));
            })
            .await?;
        drop(updates);
        // In id order, the table's: a shuffled file would touch its pages at random.
        changed.sort_unstable_by_key(|(o, _)| o.invitation());
        replaced.sort_unstable_by_key(|i| i.id);
        out.invitations_updated += edits.update_invitations(&mut tx, &changed).await?;
        done += changed.len() as u64;
        drop(changed);
        // Before the new ones: an expired invitation's replacement has its address.
        edits
            .revoke_invitations(&mut tx, &replaced, Why::Replaced)
            .await?;
        out.reinvited = replaced.len();
        drop(replaced);
        invitations.sort_unstable_by(|a, b| a.row.email().cmp(b.row.email()));
        out.invited += invites
            .write_all(&mut tx, &invitations, |n| {
                done += n as u64;
                opts.progress.tick(Stage::Applying, done, Some(work));
            })
            .await?;
        out.invited -= out.reinvited.min(out.invited);
        drop(invitations);
        let me = crate::domain::Email::parse(&self.actor.name)
            .ok()
            .map(|e| e.canonical().to_owned());
        // The operator and the account's Administrators (the first user, from `usher
        // init`, included) are never suspended or removed by an import: a file that
        // forgets them must not lock the account out.
        let mut admins: std::collections::HashSet<i64> =
            state.users.iter().map(|u| u.id).min().into_iter().collect();
        if let Some(role) = tx.role_by_name(account.id, "Administrator").await? {
            admins.extend(tx.active_holders_of(role.id).await?);
        }
        let spared = |k: &Known| me.as_deref() == Some(k.email()) || admins.contains(&k.id);
        if opts.missing != Missing::Keep {
            let missing: Vec<&Known> = plan
                .list
                .iter()
                .filter(|o| deciding(o))
                .filter_map(user_of)
                .filter(|k| !spared(k))
                .collect();
            // Those left alone count as done at once.
            done += work.saturating_sub(done + missing.len() as u64);
            let tick = |n: usize| {
                done += n as u64;
                opts.progress.tick(Stage::Applying, done, Some(work));
            };
            if opts.missing == Missing::Suspend {
                out.suspended += edits.suspend_all(&mut tx, &missing, tick).await?;
            } else {
                out.removed += edits.remove_all(&mut tx, &missing, tick).await?;
            }
            // A leaver's pending invitation dies whichever the decision: there is no
            // account to keep suspended.
            let mut leaving: Vec<&Invited> = plan
                .list
                .iter()
                .filter(|o| deciding(o))
                .filter_map(|o| o.invitation().and_then(|i| state.pending.get(i)))
                .collect();
            leaving.sort_unstable_by_key(|i| i.id);
            out.invitations_revoked += edits
                .revoke_invitations(&mut tx, &leaving, Why::Missing)
                .await?;
        }
        self.record(
            &mut tx,
            now,
            "import.apply",
            &format!("import:{batch} {}", opts.file_name),
            json!({"sha256": opts.file_sha256, "counts": plan.counts, "outcome": out,
                   "missing": opts.missing, "skip_errors": opts.skip_errors}),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn import_history(&self, limit: i64) -> Result<Vec<Batch>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.batches(account.id, limit).await
    }

    /// Appends this operator's audit entry, stamped `at`.
    pub(super) async fn record(
        &self,
        tx: &mut Tx,
        at: Timestamp,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        tx.append_audit(&NewAudit {
            at,
            actor: &self.actor,
            action,
            target,
            details,
        })
        .await?;
        Ok(())
    }
}
