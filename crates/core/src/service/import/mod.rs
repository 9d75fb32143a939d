//! Applying an import (docs/rules.md#import), its history, and undo. One
//! transaction each: a failure leaves the database as it was.

mod check;
mod choice;
mod direct;
mod edits;
mod group_roles;
mod invites;
mod losses;
mod missing;
mod options;
mod pending;
mod rows;
mod undo;
mod workbook;

use std::collections::HashMap;

use serde_json::json;

use crate::domain::{Permission, Timestamp};
use crate::error::{Error, Result};
use crate::import::Parsed;
use crate::import::plan::{AccountState, Invited, Outcomes, outcomes};
use crate::service::Usher;
use crate::service::invite::seats;
use crate::store::{Account, Batch, NewAudit, Tx, User, UserFields};
use check::check_plan;
use choice::Choice;
use edits::Edits;
use invites::Invites;
use pending::Why;
use rows::{Direct, Ticker, Work};

pub use losses::{Losses, losses};
pub(crate) use missing::{operator_and_first, spared_ids};
pub use options::{ApplyOptions, ApplyOutcome, Missing};

/// What an apply works on, in the caller's transaction.
#[derive(Clone, Copy)]
pub(crate) struct Applying<'a> {
    pub account: &'a Account,
    pub now: Timestamp,
    pub parsed: &'a Parsed,
    pub opts: &'a ApplyOptions,
    /// Rows' passwords, hashed before the account's lock was taken.
    pub hashes: &'a HashMap<u64, String>,
}

/// The plan an apply is about to carry out, for a gate to weigh.
pub(crate) struct Planned<'a> {
    pub plan: &'a Outcomes,
    pub state: &'a AccountState,
    pub parsed: &'a Parsed,
}
pub use undo::UndoOutcome;

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
            sync: None,
        };
        tx.release_memory().await?;
        Ok(state)
    }

    /// Applies the import whole or not at all: checked, its rows written in file order,
    /// the missing users decided, and the batch recorded, in one transaction.
    pub async fn import_apply(&self, parsed: &Parsed, opts: &ApplyOptions) -> Result<ApplyOutcome> {
        // argon2 is slow on purpose: hash before taking the account's lock.
        let hashes = hash_passwords(parsed)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ImportUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let state = self.account_state(&mut tx, &account, now).await?;
        let applying = Applying {
            account: &account,
            now,
            parsed,
            opts,
            hashes: &hashes,
        };
        let out = self.apply_in(&mut tx, applying, state, &|_| Ok(())).await?;
        tx.commit().await?;
        self.after_import("import.apply", out.batch_id).await;
        Ok(out)
    }

    /// The apply inside the caller's transaction, on the account `state` read in it;
    /// `gate` sees the plan before anything is written and may refuse it (a sync's
    /// limits). Nothing is committed.
    pub(crate) async fn apply_in(
        &self,
        tx: &mut Tx,
        a: Applying<'_>,
        mut state: AccountState,
        gate: &(dyn Fn(&Planned<'_>) -> Result<()> + Sync),
    ) -> Result<ApplyOutcome> {
        let Applying {
            account,
            now,
            parsed,
            opts,
            hashes,
        } = a;
        let checked = self.check_workbook(tx, account, parsed, &state).await?;
        state.held = checked.held;
        let parsed: &Parsed = checked.parsed.as_ref().unwrap_or(parsed);
        self.also_allowed(tx, account, parsed).await?;
        let plan = outcomes(parsed, &state);
        gate(&Planned {
            plan: &plan,
            state: &state,
            parsed,
        })?;
        let errors = check_plan(&plan, parsed, &state, opts)?;
        let choice = Choice::new(parsed, &state, opts);
        if choice.invites(&plan) {
            self.may_invite(tx, account).await?;
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
        let edits = Edits {
            usher: self,
            account,
            batch,
            now,
            parsed,
            state: &state,
        };
        let mut ticker = Ticker {
            done: 0,
            work: plan
                .list
                .iter()
                .filter(|o| choice.applies(o) || choice.deciding(o) || choice.suspending(o))
                .count() as u64,
            progress: &opts.progress,
        };
        let mut direct = Direct {
            hashes,
            resolver: checked.resolver,
        };
        let work = edits
            .write_rows(tx, &choice, &plan, &mut direct, &mut out, &mut ticker)
            .await?;
        self.write_work(tx, &edits, work, &mut out, &mut ticker)
            .await?;
        out.roles_changed += edits.write_group_roles(tx, &choice, &plan).await?;
        edits
            .suspend_disabled(tx, &choice, &plan, &mut out, &mut ticker)
            .await?;
        edits
            .decide_missing(tx, &choice, &plan, &mut out, &mut ticker)
            .await?;
        self.record(
            tx,
            now,
            "import.apply",
            &format!("import:{batch} {}", opts.file_name),
            json!({"sha256": opts.file_sha256, "counts": plan.counts, "outcome": out,
                   "missing": opts.missing, "skip_errors": opts.skip_errors}),
        )
        .await?;
        Ok(out)
    }

    /// What the pass over the rows gathered, written a chunk at a time: updates, pending
    /// invitations changed and replaced, then the invitations, in address order, so that
    /// the index of pending addresses grows in order rather than at random places (a
    /// tenth of a million-row apply on PostgreSQL).
    async fn write_work(
        &self,
        tx: &mut Tx,
        edits: &Edits<'_>,
        work: Work<'_>,
        out: &mut ApplyOutcome,
        ticker: &mut Ticker<'_>,
    ) -> Result<()> {
        let Work {
            mut invitations,
            mut changed,
            mut replaced,
            mut updates,
            direct,
        } = work;
        out.created += edits.create_direct(tx, &direct).await?;
        ticker.tick(direct.len());
        drop(direct);
        // In id order (the account's users are read in it): written in the file's order,
        // each chunk of a shuffled file touched pages all over the table and its indexes,
        // and the time grew faster than the rows (docs/performance.md).
        updates.sort_unstable_by_key(|(o, _)| o.user());
        out.updated += edits.update_all(tx, &updates, |n| ticker.tick(n)).await?;
        drop(updates);
        // In id order, the table's: a shuffled file would touch its pages at random.
        changed.sort_unstable_by_key(|(o, _)| o.invitation());
        replaced.sort_unstable_by_key(|i| i.id);
        out.invitations_updated += edits.update_invitations(tx, &changed).await?;
        ticker.done += changed.len() as u64;
        drop(changed);
        // Before the new ones: an expired invitation's replacement has its address.
        edits
            .revoke_invitations(tx, &replaced, Why::Replaced)
            .await?;
        out.reinvited = replaced.len();
        drop(replaced);
        invitations.sort_unstable_by(|a, b| a.row.email().cmp(b.row.email()));
        let account = edits.account;
        let expires_at = edits.now.plus_days(account.invite_validity_days);
        let templates = self.templates_in(tx, account.id).await?;
        let invites = Invites::new(
            self,
            account,
            edits.batch,
            edits.now,
            expires_at,
            &templates,
        );
        out.invited += invites
            .write_all(tx, &invitations, |n| ticker.tick(n))
            .await?;
        out.invited -= out.reinvited.min(out.invited);
        Ok(())
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

/// Every password of the file hashed, by row.
fn hash_passwords(parsed: &Parsed) -> Result<HashMap<u64, String>> {
    let mut hashes = HashMap::new();
    for r in parsed.rows.iter() {
        if let Some(pw) = &r.password {
            let phc = crate::domain::password::hash_password(pw)
                .map_err(|e| Error::invalid("password", e.to_string()))?;
            hashes.insert(r.row, phc);
        }
    }
    Ok(hashes)
}
