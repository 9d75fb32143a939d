//! The schedule `usher serve` keeps (docs/sync.md#incremental-runs-and-the-schedule): each source with an
//! interval runs when its last run is that old, reading only what changed unless its
//! last full read is older than the full interval (deletions show only in a full read).

use serde::Serialize;

use super::{RunOptions, SyncReport};
use crate::config::SyncSource;
use crate::error::Result;
use crate::service::Usher;

/// What a source's schedule calls for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    Full,
    Changes,
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Usher {
    /// None when the source has no schedule or ran less than its interval ago.
    pub async fn sync_due(&self, source: &SyncSource) -> Result<Option<Due>> {
        let Some(interval) = source.interval else {
            return Ok(None);
        };
        let now = self.clock.now().0;
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let last = tx
            .latest_sync_run(account.id, &source.name, None, false)
            .await?;
        if last.is_some_and(|r| now - r.started_at < ms(interval)) {
            return Ok(None);
        }
        let full = tx
            .latest_sync_run(account.id, &source.name, Some("full"), true)
            .await?;
        Ok(Some(match full {
            Some(f) if now - f.started_at < ms(source.full_interval) => Due::Changes,
            _ => Due::Full,
        }))
    }

    /// Runs each source whose schedule calls for a run, one after another, under the
    /// same limits as by hand; says what each did.
    pub async fn sync_scheduled(
        &self,
        sources: &[SyncSource],
    ) -> Vec<(String, Result<SyncReport>)> {
        let mut out = Vec::new();
        for s in sources {
            let due = match self.sync_due(s).await {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    out.push((s.name.clone(), Err(e)));
                    continue;
                }
            };
            let o = RunOptions {
                changes_only: due == Due::Changes,
                ..RunOptions::default()
            };
            // The audit log says the schedule acted.
            let scheduler = self.with_actor(self.actor.via(crate::domain::Channel::Schedule));
            out.push((s.name.clone(), scheduler.sync_apply(s, &o).await));
        }
        out
    }
}
