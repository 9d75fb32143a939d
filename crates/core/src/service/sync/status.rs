//! Each source's standing, for `usher sync status` and the console's Sync tab: its last
//! run, its last applied run, and a held run still waiting for approval.

use serde::Serialize;

use crate::config::{Kind, SyncSource};
use crate::error::Result;
use crate::service::Usher;
use crate::store::SyncRun;

#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub source: String,
    pub kind: Kind,
    pub url: String,
    /// How often `usher serve` runs it; None: by hand only.
    pub interval_minutes: Option<u64>,
    pub last_run: Option<SyncRun>,
    pub last_applied: Option<SyncRun>,
    /// Held by a limit, and not since resolved: no later run applied or found nothing
    /// to do.
    pub waiting: Option<SyncRun>,
}

/// Runs read per source to find the three: enough for weeks of a frequent schedule.
const LOOK_BACK: i64 = 500;

impl Usher {
    pub async fn sync_status(&self, sources: &[SyncSource]) -> Result<Vec<SourceStatus>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let mut out = Vec::with_capacity(sources.len());
        for s in sources {
            let runs = tx.sync_runs(account.id, Some(&s.name), LOOK_BACK).await?;
            let settled = |r: &&SyncRun| r.outcome == "applied" || r.outcome == "unchanged";
            out.push(SourceStatus {
                source: s.name.clone(),
                kind: s.kind,
                url: s.url.clone(),
                interval_minutes: s.interval.map(|i| i.as_secs() / 60),
                last_run: runs.first().cloned(),
                last_applied: runs.iter().find(|r| r.outcome == "applied").cloned(),
                waiting: runs
                    .iter()
                    .take_while(|r| !settled(r))
                    .find(|r| r.outcome == "held")
                    .cloned(),
            });
        }
        Ok(out)
    }
}
