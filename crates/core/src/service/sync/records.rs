//! What is kept of runs: each recorded, failures too; the history; undo of an applied
//! run.

use super::RunOptions;
use crate::config::SyncSource;
use crate::domain::Timestamp;
use crate::error::{Clash, Error, Result};
use crate::service::{UndoOutcome, Usher};
use crate::store::{NewSyncRun, SyncRun};

impl Usher {
    /// Who a run is recorded as: the operator and the channel (the console, a command,
    /// the schedule), as the audit log names them.
    pub(super) fn run_actor(&self) -> String {
        self.actor.to_string()
    }

    /// Records a run in a transaction of its own.
    pub(super) async fn save_run(&self, run: &NewSyncRun<'_>) -> Result<i64> {
        let mut tx = self.store.write().await?;
        let id = tx.insert_sync_run(run).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A run that could not read its directory is recorded as failed (when the database
    /// can be written), and its error handed back.
    pub(super) async fn sync_failed(
        &self,
        source: &SyncSource,
        started: Timestamp,
        o: &RunOptions,
        e: Error,
    ) -> Error {
        let account = async {
            let mut tx = self.store.read().await?;
            self.account_in(&mut tx).await
        }
        .await;
        if let Ok(account) = account {
            let actor = self.run_actor();
            let run = NewSyncRun {
                account_id: account.id,
                source: &source.name,
                started_at: started.0,
                finished_at: self.clock.now().0,
                actor: &actor,
                scope: if o.changes_only { "changes" } else { "full" },
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

    /// The runs, newest first, of one source or all.
    pub async fn sync_history(&self, source: Option<&str>, limit: i64) -> Result<Vec<SyncRun>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.sync_runs(account.id, source, limit).await
    }

    /// Undoes an applied run: its import batch undone, as `usher import undo` does.
    pub async fn sync_undo(&self, run_id: i64) -> Result<UndoOutcome> {
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
