//! `usher audit verify`: walks the audit chain in order and recomputes each
//! row's hash from the row before. A changed row fails its own hash; a removed row fails
//! the hash of the row after it. Gaps in the ids alone prove nothing (PostgreSQL spends
//! an id on every rolled-back insert), so they are only named beside a broken link.

use serde::Serialize;

use super::Usher;
use crate::domain::Permission;
use crate::error::Result;
use crate::store::{ChainedEntry, chain_hash};

/// Rows read per query.
const PAGE: i64 = 10_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditCheck {
    /// Rows whose hash was checked.
    pub verified: u64,
    /// Rows from before the chain began (an older usher wrote them), not checked.
    pub before_chain: u64,
    /// The newest row's hash: record it elsewhere to detect a chain rewritten whole.
    pub head: Option<String>,
    /// What is wrong, a line per broken link.
    pub faults: Vec<String>,
}

impl Usher {
    /// Checks the whole audit log (needs `reports.view`).
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        let mut out = AuditCheck::default();
        let (mut after, mut prev, mut prev_id) = (0i64, String::new(), 0i64);
        loop {
            let page = tx.audit_chain(after, PAGE).await?;
            let Some(last) = page.last().map(|r| r.entry.id) else {
                break;
            };
            for ChainedEntry { entry: r, hash } in page {
                match &hash {
                    None if out.verified == 0 => {
                        out.before_chain += 1;
                    }
                    None => out.faults.push(format!(
                        "row {}: has no hash (written outside usher, after the chain began)",
                        r.id
                    )),
                    Some(h) => {
                        let expected =
                            chain_hash(&prev, r.at, &r.actor, &r.action, &r.target, &r.details);
                        if *h != expected {
                            let gap = if prev_id != 0 && r.id != prev_id + 1 {
                                format!("; rows {} to {} are not there", prev_id + 1, r.id - 1)
                            } else {
                                String::new()
                            };
                            out.faults.push(format!(
                                "row {} ({} {}): does not match the chain: it was changed, or a row before it was removed{gap}",
                                r.id, r.action, r.target
                            ));
                        }
                        out.verified += 1;
                        prev = h.clone();
                        out.head = Some(h.clone());
                    }
                }
                prev_id = r.id;
            }
            after = last;
        }
        Ok(out)
    }
}
