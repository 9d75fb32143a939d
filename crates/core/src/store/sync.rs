//! Directory sync's records (docs/sync.md): each run, the users a source suspended, and
//! the grants it gave.

use std::collections::HashSet;

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::error::Result;

/// One run of a source, as `usher sync status` and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SyncRun {
    pub id: i64,
    pub source: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub actor: String,
    pub scope: String,
    pub outcome: String,
    pub entries: i64,
    /// The plan's counts by bucket, as JSON.
    pub counts: String,
    /// What the run would lose, by kind, as JSON.
    pub losses: String,
    pub held_reason: Option<String>,
    pub digest: Option<String>,
    pub batch_id: Option<i64>,
    pub approves: Option<i64>,
    pub cursor: Option<String>,
    pub error: Option<String>,
    /// When its import batch was undone, for an applied run that was.
    pub undone_at: Option<i64>,
}

/// A run to record.
#[derive(Debug, Clone, Default)]
pub struct NewSyncRun<'a> {
    pub account_id: i64,
    pub source: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
    pub actor: &'a str,
    pub scope: &'a str,
    pub outcome: &'a str,
    pub entries: i64,
    pub counts: String,
    pub losses: String,
    pub held_reason: Option<String>,
    pub digest: Option<&'a str>,
    pub batch_id: Option<i64>,
    pub approves: Option<i64>,
    pub cursor: Option<&'a str>,
    pub error: Option<String>,
}

const RUN_COLUMNS: &str = "r.id, r.source, r.started_at, r.finished_at, r.actor, r.scope, \
     r.outcome, r.entries, r.counts, r.losses, r.held_reason, r.digest, r.batch_id, r.approves, \
     r.cursor, r.error, b.undone_at";

/// The runs, with their batches for `undone_at`.
const RUNS: &str = "sync_runs r LEFT JOIN import_batches b ON b.id = r.batch_id";

impl Tx {
    pub async fn insert_sync_run(&mut self, r: &NewSyncRun<'_>) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO sync_runs (account_id, source, started_at, finished_at, actor, scope,
                    outcome, entries, counts, losses, held_reason, digest, batch_id, approves,
                    cursor, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                 RETURNING id",
            )
            .bind(r.account_id)
            .bind(r.source)
            .bind(r.started_at)
            .bind(r.finished_at)
            .bind(r.actor)
            .bind(r.scope)
            .bind(r.outcome)
            .bind(r.entries)
            .bind(&r.counts)
            .bind(&r.losses)
            .bind(&r.held_reason)
            .bind(r.digest)
            .bind(r.batch_id)
            .bind(r.approves)
            .bind(r.cursor)
            .bind(&r.error)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    /// The newest runs first, of one source or all.
    pub async fn sync_runs(
        &mut self,
        account_id: i64,
        source: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM {RUNS}
             WHERE r.account_id = $1 AND ($2 IS NULL OR r.source = $2)
             ORDER BY r.id DESC LIMIT $3"
        );
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, SyncRun>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(account_id)
                .bind(source)
                .bind(limit)
                .fetch_all(c)
                .await
        })?;
        Ok(rows)
    }

    pub async fn sync_run(&mut self, account_id: i64, id: i64) -> Result<Option<SyncRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM {RUNS} WHERE r.account_id = $1 AND r.id = $2");
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, SyncRun>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(account_id)
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }

    /// Whether a held run has been applied since (approved), by its id.
    pub async fn sync_run_approved(&mut self, held: i64) -> Result<bool> {
        let n: i64 = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM sync_runs WHERE approves = $1")
                .bind(held)
                .fetch_one(c)
                .await
        })?;
        Ok(n > 0)
    }

    /// The users this source suspended and may bring back: still suspended, and not
    /// changed by anyone since (a later edit, by hand or otherwise, voids the hold).
    pub async fn sync_holds(&mut self, account_id: i64, source: &str) -> Result<HashSet<i64>> {
        let ids: Vec<i64> = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT h.user_id FROM sync_holds h JOIN users u ON u.id = h.user_id
                 WHERE h.account_id = $1 AND h.source = $2
                   AND u.status = 'suspended' AND u.updated_at <= h.at",
            )
            .bind(account_id)
            .bind(source)
            .fetch_all(c)
            .await
        })?;
        Ok(ids.into_iter().collect())
    }

    /// After a run's apply: the users its batch suspended are held by the source, and
    /// holds on users active again are dropped.
    pub async fn record_sync_holds(
        &mut self,
        account_id: i64,
        source: &str,
        batch_id: i64,
        at: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "DELETE FROM sync_holds WHERE account_id = $1 AND source = $2
                   AND user_id IN (SELECT id FROM users WHERE account_id = $1 AND status = 'active')",
            )
            .bind(account_id)
            .bind(source)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO sync_holds (account_id, source, user_id, batch_id, at)
                 SELECT $1, $2, ch.user_id, $3, $4 FROM import_changes ch
                 WHERE ch.batch_id = $3 AND ch.kind = 'suspend' AND ch.user_id IS NOT NULL
                 ON CONFLICT (account_id, source, user_id)
                 DO UPDATE SET batch_id = excluded.batch_id, at = excluded.at",
            )
            .bind(account_id)
            .bind(source)
            .bind(batch_id)
            .bind(at.0)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Undo of a run: what it suspended is no longer its to bring back.
    pub async fn drop_sync_holds_of_batch(&mut self, batch_id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM sync_holds WHERE batch_id = $1")
                .bind(batch_id)
                .execute(c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}

/// A role a source gave.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Given {
    pub user_id: i64,
    pub role_id: i64,
    pub mailbox_id: i64,
    pub role: String,
    pub mailbox: Option<String>,
}

/// A role held at account scope (mailbox 0) or on a mailbox: (user, role, mailbox).
pub type RoleHeld = (i64, i64, i64);

impl Tx {
    /// Every role the account's users hold, with its scope.
    pub async fn user_roles(&mut self, account_id: i64) -> Result<Vec<RoleHeld>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, RoleHeld>(
                "SELECT g.user_id, g.role_id, COALESCE(g.mailbox_id, 0) FROM grants g
                 JOIN users u ON u.id = g.user_id
                 WHERE u.account_id = $1 AND g.role_id IS NOT NULL",
            )
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The roles a source gave (still held or not), with the role's name and the
    /// mailbox's address for the preview.
    pub async fn sync_given(&mut self, account_id: i64, source: &str) -> Result<Vec<Given>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Given>(
                "SELECT s.user_id, s.role_id, s.mailbox_id, r.name AS role, m.address AS mailbox
                 FROM sync_grants s JOIN roles r ON r.id = s.role_id
                 LEFT JOIN mailboxes m ON m.id = s.mailbox_id
                 WHERE s.account_id = $1 AND s.source = $2",
            )
            .bind(account_id)
            .bind(source)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Records roles as the source's to take back.
    pub async fn add_sync_grants(
        &mut self,
        account_id: i64,
        source: &str,
        given: &[RoleHeld],
    ) -> Result<()> {
        for (user, role, mailbox) in given {
            on_tx!(self, |c| {
                sqlx::query(
                    "INSERT INTO sync_grants (account_id, source, user_id, role_id, mailbox_id)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(account_id)
                .bind(source)
                .bind(user)
                .bind(role)
                .bind(mailbox)
                .execute(c)
                .await
                .map(|_| ())
            })?;
        }
        Ok(())
    }
}

impl Tx {
    /// The newest run of a source that was not a preview, of one scope or either; with
    /// `settled`, only one that applied or found nothing to do.
    pub async fn latest_sync_run(
        &mut self,
        account_id: i64,
        source: &str,
        scope: Option<&str>,
        settled: bool,
    ) -> Result<Option<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM {RUNS}
             WHERE r.account_id = $1 AND r.source = $2 AND ($3 IS NULL OR r.scope = $3)
               AND r.outcome <> 'previewed'
               AND ($4 = 0 OR (r.outcome IN ('applied', 'unchanged') AND b.undone_at IS NULL))
             ORDER BY r.id DESC LIMIT 1"
        );
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, SyncRun>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(account_id)
                .bind(source)
                .bind(scope)
                .bind(i64::from(settled))
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }

    /// Where the next incremental run of a source starts: the change marker of the
    /// newest run that applied (and was not undone) or found nothing to do, having read
    /// one. After an undo, what that run read is read again.
    pub async fn sync_cursor(&mut self, account_id: i64, source: &str) -> Result<Option<String>> {
        let cursor = on_tx!(self, |c| {
            sqlx::query_scalar::<_, String>(
                "SELECT r.cursor FROM sync_runs r
                 LEFT JOIN import_batches b ON b.id = r.batch_id
                 WHERE r.account_id = $1 AND r.source = $2 AND r.cursor IS NOT NULL
                   AND r.outcome IN ('applied', 'unchanged') AND b.undone_at IS NULL
                 ORDER BY r.id DESC LIMIT 1",
            )
            .bind(account_id)
            .bind(source)
            .fetch_optional(c)
            .await
        })?;
        Ok(cursor)
    }
}
