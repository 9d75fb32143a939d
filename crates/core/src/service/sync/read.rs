//! A run's first half, the same for a preview and an apply: the directory read (whole,
//! or what changed since the last settled run), its entries checked as rows, and the
//! account as the plan sees it.

use super::RunOptions;
use crate::config::{Leavers, SyncSource};
use crate::domain::Timestamp;
use crate::error::{Error, Result};
use crate::import::Stage;
use crate::import::plan::{AccountState, SyncState};
use crate::service::import::{operator_and_first, spared_ids};
use crate::service::{ApplyOptions, Missing, Usher};
use crate::store::{Account, Tx};
use crate::sync::{Rows, changed_since};

/// What was read, and how.
pub(super) struct Reading {
    pub rows: Rows,
    /// "full" or "changes".
    pub scope: &'static str,
}

impl Reading {
    pub fn partial(&self) -> bool {
        self.scope == "changes"
    }

    pub fn entries(&self) -> u64 {
        self.rows.dns.len() as u64
    }
}

impl Usher {
    /// The filter a run reads with: the source's, or for an incremental run the
    /// source's limited to entries changed since the last settled run.
    async fn filter(&self, source: &SyncSource, o: &RunOptions) -> Result<(String, &'static str)> {
        if !o.changes_only {
            return Ok((source.filter.clone(), "full"));
        }
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        Ok(match tx.sync_cursor(account.id, &source.name).await? {
            Some(c) => (changed_since(source, &c), "changes"),
            None => (source.filter.clone(), "full"),
        })
    }

    /// Reads the source and checks its entries as rows; the options' progress hears of
    /// each page read.
    pub(super) async fn read_source(&self, source: &SyncSource, o: &RunOptions) -> Result<Reading> {
        let (filter, scope) = self.filter(source, o).await?;
        let page = u64::from(source.page_size);
        let progress = &o.progress;
        let mut told = |n: u64| {
            if n.is_multiple_of(page) {
                progress.report(Stage::Reading, n, None);
            }
        };
        let read = crate::sync::read(source, &filter, &mut told).await?;
        let owned = source.clone();
        let rows = tokio::task::spawn_blocking(move || crate::sync::rows(&owned, read))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
            .map_err(|e| Error::invalid("sync", e.to_string()))?;
        Ok(Reading { rows, scope })
    }

    /// The account as a run of `source` plans on it: a file import's view, who the
    /// source suspended, who it spares, and the roles its groups give.
    pub(super) async fn sync_state(
        &self,
        tx: &mut Tx,
        account: &Account,
        source: &SyncSource,
        reading: &Reading,
        now: Timestamp,
    ) -> Result<AccountState> {
        let mut state = self.account_state(tx, account, now).await?;
        let groups = self.groups(tx, account, source, &reading.rows).await?;
        state.sync = Some(SyncState {
            source: source.name.clone(),
            partial: reading.partial(),
            create_direct: source.create == crate::config::Create::Direct,
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
            keep_admin: operator_and_first(self, &state.users),
        });
        Ok(state)
    }
}

/// How the run applies: the source's leavers decision, its faulty entries' users left
/// alone, and the batch named after the source.
pub(super) fn options(source: &SyncSource, rows: &Rows) -> ApplyOptions {
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
pub(super) fn faults(rows: &Rows) -> Vec<String> {
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
