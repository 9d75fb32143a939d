//! Directory sync runs (docs/sync.md): a source read whole, then planned, previewed,
//! applied and undone as a file import is, under limits that hold a run which would take
//! too much away until an operator approves that very run.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::json;

mod groups;

use super::Usher;
use super::import::{Applying, Losses, Planned, losses, spared_ids};
use crate::config::{Leavers, Limit, SyncSource};
use crate::domain::{Permission, Timestamp};
use crate::error::{Clash, Error, Result};
use crate::import::plan::{AccountState, Plan, SyncState, plan};
use crate::import::{Progress, Stage};
use crate::service::{ApplyOptions, ApplyOutcome, Missing};
use crate::store::{Account, NewSyncRun, SyncRun, Tx};
use crate::sync::Rows;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// A dry run: nothing changed.
    Previewed,
    Applied,
    /// Nothing to change.
    Unchanged,
    /// Over a limit: nothing changed, waiting for approval.
    Held,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Previewed => "previewed",
            Self::Applied => "applied",
            Self::Unchanged => "unchanged",
            Self::Held => "held",
        }
    }
}

/// The limit a run went over, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tripped {
    /// suspend, remove or role_loss.
    pub kind: &'static str,
    pub count: u64,
    /// Of the account's active users, in percent.
    pub share: f64,
    pub limit: Limit,
}

impl Tripped {
    /// "would suspend 40 users (25.0 % of 160 active), over the limit of 20 % by 8".
    pub fn describe(&self, active: u64) -> String {
        let verb = match self.kind {
            "suspend" => "suspend",
            "remove" => "remove",
            _ => "take roles from",
        };
        let by_count = self.count.saturating_sub(self.limit.count);
        let allowed_share = (self.limit.percent / 100.0 * active as f64).floor() as u64;
        let by_share = self.count.saturating_sub(allowed_share);
        let over = if self.count > self.limit.count && by_count >= by_share {
            format!("over the limit of {} by {by_count}", self.limit.count)
        } else {
            format!("over the limit of {} % by {by_share}", self.limit.percent)
        };
        format!(
            "would {verb} {} user(s) ({:.1} % of {active} active), {over}",
            self.count, self.share
        )
    }
}

/// What one run found and did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub source: String,
    pub run_id: i64,
    pub outcome: RunOutcome,
    pub entries: u64,
    pub losses: Losses,
    pub held: Option<Tripped>,
    /// Why held, in words.
    pub held_reason: Option<String>,
    /// Entries that cannot be read as users, each naming its DN.
    pub faults: Vec<String>,
    #[serde(skip)]
    pub plan: Option<Plan>,
    pub applied: Option<ApplyOutcome>,
}

/// The first limit the losses go over, if any.
pub fn tripped(source: &SyncSource, l: &Losses) -> Option<Tripped> {
    let share = |n: u64| match l.active_users {
        0 if n == 0 => 0.0,
        0 => 100.0,
        a => n as f64 * 100.0 / a as f64,
    };
    [
        ("suspend", l.suspend, source.limits.suspend),
        ("remove", l.remove, source.limits.remove),
        ("role_loss", l.role_loss, source.limits.role_loss),
    ]
    .into_iter()
    .find(|(_, n, limit)| *n > limit.count || share(*n) > limit.percent)
    .map(|(kind, count, limit)| Tripped {
        kind,
        count,
        share: share(count),
        limit,
    })
}

/// How the run applies: the source's leavers decision, its faulty entries' users left
/// alone, and the batch named after the source.
fn options(source: &SyncSource, rows: &Rows) -> ApplyOptions {
    ApplyOptions {
        missing: match source.missing {
            Leavers::Suspend => Missing::Suspend,
            Leavers::Keep => Missing::Keep,
            Leavers::Remove => Missing::Remove,
        },
        exclude_emails: rows.faulty_emails.clone(),
        exclude_refs: rows
            .faulty_refs
            .iter()
            .filter(|r| !r.is_empty())
            .cloned()
            .collect(),
        skip_errors: true,
        file_name: format!("sync:{}", source.name),
        file_sha256: rows.sha256.clone(),
        ..ApplyOptions::default()
    }
}

/// Each faulty entry's faults, named by its DN.
fn faults(rows: &Rows) -> Vec<String> {
    rows.parsed
        .errors
        .iter()
        .map(|e| {
            let dn = rows.dn(e.row).unwrap_or_default();
            format!(
                "{}: {}",
                crate::domain::sanitize::escape_for_display(dn),
                e.what()
            )
        })
        .collect()
}

/// What the gate saw, taken out of the apply.
#[derive(Default)]
struct Seen {
    losses: Losses,
    digest: String,
    counts: String,
    stop: Option<RunOutcome>,
}

impl Usher {
    /// Reads a source whole and checks its entries as rows; `progress` hears of each
    /// page read.
    async fn read_source(&self, source: &SyncSource, progress: &Progress) -> Result<Rows> {
        let filter = source.filter.clone();
        let page = u64::from(source.page_size);
        let mut told = |n: u64| {
            if n.is_multiple_of(page) {
                progress.report(Stage::Reading, n, None);
            }
        };
        let read = crate::sync::read(source, &filter, &mut told).await?;
        let source = source.clone();
        let rows = tokio::task::spawn_blocking(move || crate::sync::rows(&source, read))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
            .map_err(|e| Error::invalid("sync", e.to_string()))?;
        Ok(rows)
    }

    /// The account as a run of `source` plans on it: a file import's view, and who the
    /// source suspended.
    async fn sync_state(
        &self,
        tx: &mut Tx,
        account: &Account,
        source: &SyncSource,
        rows: &Rows,
        now: Timestamp,
    ) -> Result<AccountState> {
        let mut state = self.account_state(tx, account, now).await?;
        let groups = self.groups(tx, account, source, rows).await?;
        state.sync = Some(SyncState {
            source: source.name.clone(),
            held: tx.sync_holds(account.id, &source.name).await?,
            leavers: source.missing,
            spared: spared_ids(self, tx, account.id, &state.users).await?,
            wanted: groups.wanted,
            roles: groups.roles,
            given: groups.given,
            admin_role: tx
                .role_by_name(account.id, "Administrator")
                .await?
                .map(|r| r.id),
            keep_admin: self.first_and_operator(&state.users),
        });
        Ok(state)
    }

    /// The account's first user and the operator, by id.
    fn first_and_operator(&self, users: &[crate::import::plan::Known]) -> HashSet<i64> {
        let me = crate::domain::Email::parse(&self.actor.name)
            .ok()
            .map(|e| e.canonical().to_owned());
        let mut ids: HashSet<i64> = users.iter().map(|u| u.id).min().into_iter().collect();
        ids.extend(
            users
                .iter()
                .filter(|u| me.as_deref() == Some(u.email()))
                .map(|u| u.id),
        );
        ids
    }

    /// `usher sync NAME --dry-run`: the directory read and planned, nothing changed. The
    /// run is recorded, with the limit it would trip.
    pub async fn sync_preview(
        &self,
        source: &SyncSource,
        progress: &Progress,
    ) -> Result<SyncReport> {
        let started = self.clock.now();
        let rows = match self.read_source(source, progress).await {
            Ok(r) => r,
            Err(e) => return Err(self.sync_failed(source, started, e).await),
        };
        let opts = options(source, &rows);
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let state = self
            .sync_state(&mut tx, &account, source, &rows, started)
            .await?;
        drop(tx);
        let faults = faults(&rows);
        let entries = rows.dns.len() as u64;
        let plan = plan(Arc::new(rows.parsed), state);
        let l = losses(plan.outcomes(), plan.parsed(), plan.state(), &opts);
        let held = tripped(source, &l);
        let held_reason = held.as_ref().map(|t| t.describe(l.active_users));
        let run = NewSyncRun {
            account_id: account.id,
            source: &source.name,
            started_at: started.0,
            finished_at: self.clock.now().0,
            actor: &self.actor.to_string(),
            scope: "full",
            outcome: RunOutcome::Previewed.as_str(),
            entries: entries as i64,
            counts: serde_json::to_string(&plan.counts).unwrap_or_default(),
            losses: serde_json::to_string(&l).unwrap_or_default(),
            held_reason: held_reason.clone(),
            digest: Some(&plan.digest),
            ..NewSyncRun::default()
        };
        let run_id = self.save_run(&run).await?;
        Ok(SyncReport {
            source: source.name.clone(),
            run_id,
            outcome: RunOutcome::Previewed,
            entries,
            losses: l,
            held,
            held_reason,
            faults,
            plan: Some(plan),
            applied: None,
        })
    }

    /// Records a run in a transaction of its own.
    async fn save_run(&self, run: &NewSyncRun<'_>) -> Result<i64> {
        let mut tx = self.store.write().await?;
        let id = tx.insert_sync_run(run).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A run that could not read its directory is recorded as failed (when the database
    /// can be written), and its error handed back.
    async fn sync_failed(&self, source: &SyncSource, started: Timestamp, e: Error) -> Error {
        let account = async {
            let mut tx = self.store.read().await?;
            self.account_in(&mut tx).await
        }
        .await;
        if let Ok(account) = account {
            let run = NewSyncRun {
                account_id: account.id,
                source: &source.name,
                started_at: started.0,
                finished_at: self.clock.now().0,
                actor: &self.actor.to_string(),
                scope: "full",
                outcome: "failed",
                error: Some(e.to_string()),
                ..NewSyncRun::default()
            };
            if let Err(s) = self.save_run(&run).await {
                tracing::warn!("sync {}: the failed run was not recorded: {s}", source.name);
            }
        }
        e
    }

    /// `usher sync NAME --apply`: the directory read, planned and applied in one
    /// transaction, unless the plan is over one of the source's limits (then nothing
    /// changes and the run waits for approval) or changes nothing. `approve` names a held
    /// run: applied over the limits if the plan is still the one that was held.
    pub async fn sync_apply(
        &self,
        source: &SyncSource,
        approve: Option<i64>,
        progress: &Progress,
    ) -> Result<SyncReport> {
        let started = self.clock.now();
        let rows = match self.read_source(source, progress).await {
            Ok(r) => r,
            Err(e) => return Err(self.sync_failed(source, started, e).await),
        };
        let opts = ApplyOptions {
            progress: progress.clone(),
            ..options(source, &rows)
        };
        let hashes = Default::default();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ImportUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let held_digest = match approve {
            Some(id) => Some(self.held_run(&mut tx, &account, source, id).await?),
            None => None,
        };
        let state = self
            .sync_state(&mut tx, &account, source, &rows, started)
            .await?;
        let seen = Mutex::new(Seen::default());
        let gate = |p: &Planned<'_>| gate(source, &opts, held_digest.as_deref(), p, &seen);
        let applying = Applying {
            account: &account,
            now: started,
            parsed: &rows.parsed,
            opts: &opts,
            hashes: &hashes,
        };
        let result = self.apply_in(&mut tx, applying, state, &gate).await;
        let seen = seen.into_inner().unwrap_or_default();
        let mut report = SyncReport {
            source: source.name.clone(),
            run_id: 0,
            outcome: seen.stop.unwrap_or(RunOutcome::Applied),
            entries: rows.dns.len() as u64,
            losses: seen.losses,
            held: None,
            held_reason: None,
            faults: faults(&rows),
            plan: None,
            applied: None,
        };
        let run = |outcome: RunOutcome| NewSyncRun {
            account_id: account.id,
            source: &source.name,
            started_at: started.0,
            finished_at: self.clock.now().0,
            actor: "",
            scope: "full",
            outcome: outcome.as_str(),
            entries: report.entries as i64,
            counts: seen.counts.clone(),
            losses: serde_json::to_string(&seen.losses).unwrap_or_default(),
            digest: Some(&seen.digest),
            approves: approve,
            ..NewSyncRun::default()
        };
        let actor = self.actor.to_string();
        match (result, seen.stop) {
            (Err(_), Some(stop)) => {
                drop(tx);
                report.held = tripped(source, &seen.losses).filter(|_| stop == RunOutcome::Held);
                report.held_reason = report
                    .held
                    .as_ref()
                    .map(|t| t.describe(seen.losses.active_users));
                let r = NewSyncRun {
                    actor: &actor,
                    held_reason: report.held_reason.clone(),
                    approves: None,
                    ..run(stop)
                };
                report.run_id = self.save_run(&r).await?;
                Ok(report)
            }
            (Err(e), None) => Err(e),
            (Ok(out), _) => {
                tx.record_sync_holds(account.id, &source.name, out.batch_id, started)
                    .await?;
                let r = NewSyncRun {
                    actor: &actor,
                    batch_id: Some(out.batch_id),
                    ..run(RunOutcome::Applied)
                };
                report.run_id = tx.insert_sync_run(&r).await?;
                self.record(
                    &mut tx,
                    started,
                    "sync.apply",
                    &format!("sync:{} run {}", source.name, report.run_id),
                    json!({"batch": out.batch_id, "approves": approve, "losses": seen.losses,
                           "outcome": out}),
                )
                .await?;
                tx.commit().await?;
                self.after_import("sync.apply", out.batch_id).await;
                report.applied = Some(out);
                Ok(report)
            }
        }
    }

    /// The digest of the held run an approval names, once checked: held, this source's,
    /// and not approved already.
    async fn held_run(
        &self,
        tx: &mut Tx,
        account: &Account,
        source: &SyncSource,
        id: i64,
    ) -> Result<String> {
        let run = tx
            .sync_run(account.id, id)
            .await?
            .filter(|r| r.source == source.name)
            .ok_or_else(|| Error::NotFound(format!("run {id} of source '{}'", source.name)))?;
        if run.outcome != RunOutcome::Held.as_str() {
            return Err(Error::conflict(
                Clash::State,
                format!(
                    "run {id} was {}, not held: there is nothing to approve",
                    run.outcome
                ),
            ));
        }
        if tx.sync_run_approved(id).await? {
            return Err(Error::conflict(
                Clash::State,
                format!("run {id} was approved and applied already"),
            ));
        }
        run.digest
            .ok_or_else(|| Error::corrupt(format!("sync run {id}"), "no digest"))
    }

    /// The runs, newest first, of one source or all.
    pub async fn sync_history(&self, source: Option<&str>, limit: i64) -> Result<Vec<SyncRun>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.sync_runs(account.id, source, limit).await
    }

    /// Undoes an applied run: its import batch undone, as `usher import undo` does.
    pub async fn sync_undo(&self, run_id: i64) -> Result<super::UndoOutcome> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let run = tx
            .sync_run(account.id, run_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("sync run {run_id}")))?;
        drop(tx);
        let batch = run.batch_id.ok_or_else(|| {
            Error::conflict(
                Clash::State,
                format!(
                    "sync run {run_id} was {}: it changed nothing to undo",
                    run.outcome
                ),
            )
        })?;
        self.import_undo(batch).await
    }
}

/// Weighs the plan an apply is about to carry out: stops it (by an error the caller
/// reads back from `seen`) when it changes nothing, is over a limit, or is not the plan
/// an approval names.
fn gate(
    source: &SyncSource,
    opts: &ApplyOptions,
    held_digest: Option<&str>,
    p: &Planned<'_>,
    seen: &Mutex<Seen>,
) -> Result<()> {
    let l = losses(&p.plan.list, p.parsed, p.state, opts);
    let mut s = seen
        .lock()
        .map_err(|_| Error::Task("a sync's gate".into()))?;
    s.losses = l;
    s.digest = p.plan.digest.clone();
    s.counts = serde_json::to_string(&p.plan.counts).unwrap_or_default();
    if let Some(d) = held_digest {
        if d != p.plan.digest {
            return Err(Error::conflict(
                Clash::Changed,
                "the directory or the account changed since that run was held: preview again \
                 (usher sync NAME --dry-run) and approve the run that holds then",
            ));
        }
        return Ok(());
    }
    let stop = if l.changes == 0 {
        RunOutcome::Unchanged
    } else if tripped(source, &l).is_some() {
        RunOutcome::Held
    } else {
        return Ok(());
    };
    s.stop = Some(stop);
    Err(Error::conflict(Clash::State, stop.as_str()))
}
