//! `usher sync NAME --dry-run`: the directory read and planned, nothing changed. The run
//! is recorded, with the limit an apply would trip.

use std::sync::Arc;

use super::read::{faults, options};
use super::{RunOptions, RunOutcome, SyncReport, tripped};
use crate::config::SyncSource;
use crate::error::Result;
use crate::import::plan::plan;
use crate::service::Usher;
use crate::service::import::losses;
use crate::store::NewSyncRun;

impl Usher {
    pub async fn sync_preview(&self, source: &SyncSource, o: &RunOptions) -> Result<SyncReport> {
        let started = self.clock.now();
        let reading = match self.read_source(source, o).await {
            Ok(r) => r,
            Err(e) => return Err(self.sync_failed(source, started, o, e).await),
        };
        let opts = options(source, &reading.rows);
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let state = self
            .sync_state(&mut tx, &account, source, &reading, started)
            .await?;
        drop(tx);
        let faults = faults(&reading.rows);
        let (entries, scope) = (reading.entries(), reading.scope);
        let plan = plan(Arc::new(reading.rows.parsed), state);
        let l = losses(plan.outcomes(), plan.parsed(), plan.state(), &opts);
        let held = tripped(source, &l);
        let held_reason = held.as_ref().map(|t| t.describe(l.active_users));
        let actor = self.run_actor();
        let run = NewSyncRun {
            account_id: account.id,
            source: &source.name,
            started_at: started.0,
            finished_at: self.clock.now().0,
            actor: &actor,
            scope,
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
            scope,
            entries,
            losses: l,
            held,
            held_reason,
            faults,
            plan: Some(plan),
            applied: None,
        })
    }
}
