//! `usher sync NAME --apply`: the directory read, planned and applied in one
//! transaction, unless the plan changes nothing or is over one of the source's limits:
//! then nothing changes and the run is recorded, held runs waiting for an operator to
//! approve that very run.

use std::sync::Mutex;

use serde_json::json;

use super::read::{Reading, faults, options};
use super::{RunOptions, RunOutcome, SyncReport, tripped};
use crate::config::SyncSource;
use crate::domain::{Permission, Timestamp};
use crate::error::{Clash, Error, Result};
use crate::service::import::{Applying, Losses, Planned, losses};
use crate::service::{ApplyOptions, ApplyOutcome, Usher};
use crate::store::{Account, NewSyncRun, Tx};

/// What the gate saw, taken out of the apply.
#[derive(Default)]
struct Seen {
    losses: Losses,
    digest: String,
    counts: String,
    stop: Option<RunOutcome>,
}

/// One run being settled: what it read and what its apply gave.
struct Settling<'a> {
    source: &'a SyncSource,
    account: &'a Account,
    o: &'a RunOptions,
    reading: &'a Reading,
    started: Timestamp,
    seen: Seen,
}

impl Usher {
    /// `o.approve` names a held run: applied over the limits if its plan is still the
    /// one that was held.
    pub async fn sync_apply(&self, source: &SyncSource, o: &RunOptions) -> Result<SyncReport> {
        let started = self.clock.now();
        let reading = match self.read_source(source, o).await {
            Ok(r) => r,
            Err(e) => return Err(self.sync_failed(source, started, o, e).await),
        };
        let opts = ApplyOptions {
            progress: o.progress.clone(),
            ..options(source, &reading.rows)
        };
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ImportUsers)
            .await?;
        if source.create == crate::config::Create::Direct {
            self.require(&mut tx, &account, Permission::CreateUsers)
                .await?;
        }
        tx.lock_account(account.id).await?;
        let held_digest = match o.approve {
            Some(id) => Some(self.held_run(&mut tx, &account, source, id).await?),
            None => None,
        };
        let state = self
            .sync_state(&mut tx, &account, source, &reading, started)
            .await?;
        let seen = Mutex::new(Seen::default());
        let gate = |p: &Planned<'_>| gate(source, &opts, held_digest.as_deref(), p, &seen);
        let hashes = Default::default();
        let applying = Applying {
            account: &account,
            now: started,
            parsed: &reading.rows.parsed,
            opts: &opts,
            hashes: &hashes,
        };
        let result = self.apply_in(&mut tx, applying, state, &gate).await;
        let settling = Settling {
            source,
            account: &account,
            o,
            reading: &reading,
            started,
            seen: seen.into_inner().unwrap_or_default(),
        };
        match (result, settling.seen.stop) {
            (Err(_), Some(stop)) => {
                drop(tx);
                self.stopped(settling, stop).await
            }
            (Err(e), None) => Err(e),
            (Ok(out), _) => self.applied(tx, settling, out).await,
        }
    }

    /// The report of a run, before it is recorded.
    fn report(&self, s: &Settling<'_>, outcome: RunOutcome) -> SyncReport {
        SyncReport {
            source: s.source.name.clone(),
            run_id: 0,
            outcome,
            scope: s.reading.scope,
            entries: s.reading.entries(),
            losses: s.seen.losses,
            held: None,
            held_reason: None,
            faults: faults(&s.reading.rows),
            plan: None,
            applied: None,
        }
    }

    /// A run that changed nothing (held by a limit, or nothing to do), recorded.
    async fn stopped(&self, s: Settling<'_>, stop: RunOutcome) -> Result<SyncReport> {
        let mut report = self.report(&s, stop);
        report.held = tripped(s.source, &s.seen.losses).filter(|_| stop == RunOutcome::Held);
        report.held_reason = report
            .held
            .as_ref()
            .map(|t| t.describe(s.seen.losses.active_users));
        let actor = self.run_actor();
        let run = NewSyncRun {
            finished_at: self.clock.now().0,
            held_reason: report.held_reason.clone(),
            approves: None,
            // A run that found nothing to do moves the incremental cursor on.
            cursor: (stop == RunOutcome::Unchanged)
                .then_some(s.reading.rows.cursor.as_deref())
                .flatten(),
            ..run_record(&s, &actor, stop)
        };
        report.run_id = self.save_run(&run).await?;
        Ok(report)
    }

    /// An applied run: the users it suspended held by the source, the run and its
    /// audit entry recorded, all in the apply's transaction, then committed.
    async fn applied(&self, mut tx: Tx, s: Settling<'_>, out: ApplyOutcome) -> Result<SyncReport> {
        let mut report = self.report(&s, RunOutcome::Applied);
        tx.record_sync_holds(s.account.id, &s.source.name, out.batch_id, s.started)
            .await?;
        let actor = self.run_actor();
        let run = NewSyncRun {
            finished_at: self.clock.now().0,
            batch_id: Some(out.batch_id),
            cursor: s.reading.rows.cursor.as_deref(),
            ..run_record(&s, &actor, RunOutcome::Applied)
        };
        report.run_id = tx.insert_sync_run(&run).await?;
        self.record(
            &mut tx,
            s.started,
            "sync.apply",
            &format!("sync:{} run {}", s.source.name, report.run_id),
            json!({"batch": out.batch_id, "approves": s.o.approve, "losses": s.seen.losses,
                   "scope": s.reading.scope, "outcome": out}),
        )
        .await?;
        tx.commit().await?;
        self.after_import("sync.apply", out.batch_id).await;
        report.applied = Some(out);
        Ok(report)
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
}

/// The record of a settled run, less what differs by outcome.
fn run_record<'a>(s: &'a Settling<'a>, actor: &'a str, outcome: RunOutcome) -> NewSyncRun<'a> {
    NewSyncRun {
        account_id: s.account.id,
        source: &s.source.name,
        started_at: s.started.0,
        finished_at: s.started.0,
        actor,
        scope: s.reading.scope,
        outcome: outcome.as_str(),
        entries: s.reading.entries() as i64,
        counts: s.seen.counts.clone(),
        losses: serde_json::to_string(&s.seen.losses).unwrap_or_default(),
        digest: Some(&s.seen.digest),
        approves: s.o.approve,
        ..NewSyncRun::default()
    }
}

/// Weighs the plan an apply is about to carry out: stops it (by an error the caller
/// reads back from `seen`) when it changes nothing or is over a limit, and refuses it
/// when it is not the plan an approval names.
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
