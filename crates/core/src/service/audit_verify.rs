//! `usher audit verify`: walks the audit chain in order and recomputes each row's hash
//! from the row before, then checks the chain against its anchor outside the database
//! (docs/audit.md). A changed row fails its own hash; a removed row fails the hash of the
//! row after it; a row whose hash was cleared after the chain began is named; the newest
//! rows deleted, or the chain recomputed whole, disagree with the anchor. Gaps in the ids
//! alone prove nothing (PostgreSQL spends an id on every rolled-back insert), so they are
//! only named beside a broken link.

use serde::Serialize;

use super::Usher;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::store::anchor::{AnchorError, Checkpoint};
use crate::store::{ChainedEntry, Tx, chain_hash};

/// Rows read per query.
const PAGE: i64 = 10_000;

/// What the anchor said of the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AnchorState {
    /// This process has no audit key: the chain alone cannot show the newest rows
    /// deleted or the whole chain recomputed.
    #[default]
    NotKept,
    /// A key and no anchor yet (nothing was written since the key was made).
    NotYet,
    /// The anchored row is there with its anchored hash; `behind` rows came after it.
    Agrees { row: i64, at: i64, behind: u64 },
    /// The anchor's file fails its signature.
    Forged { reason: String },
    /// The anchored row is not in the log.
    Removed { row: i64, at: i64 },
    /// The anchored row is there with another hash.
    Rewritten { row: i64, at: i64 },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditCheck {
    /// Rows whose hash was checked.
    pub verified: u64,
    /// Rows from before the chain began (an older usher wrote them), not checked.
    pub before_chain: u64,
    /// The chain's first row, as the anchor (else the database) records it.
    pub start: i64,
    /// The newest row's hash.
    pub head: Option<String>,
    pub anchor: AnchorState,
    /// What is wrong, a line per broken link.
    pub faults: Vec<String>,
}

impl AuditCheck {
    /// One line saying which case was found.
    pub fn verdict(&self) -> String {
        let anchored = match &self.anchor {
            AnchorState::NotKept => {
                "not anchored (no audit key here: the newest rows deleted or the chain \
                 recomputed whole would not show)"
                    .to_owned()
            }
            AnchorState::NotYet => "no anchor written yet".to_owned(),
            AnchorState::Agrees { row, behind: 0, .. } => format!("anchored at row {row}"),
            AnchorState::Agrees { row, behind, .. } => format!(
                "anchored at row {row}, {behind} row(s) after it not yet anchored \
                 (`usher audit anchor` moves it)"
            ),
            AnchorState::Forged { .. } => "THE ANCHOR IS FORGED".to_owned(),
            AnchorState::Removed { row, .. } => {
                format!("ROWS REMOVED: the anchored row {row} is not in the log")
            }
            AnchorState::Rewritten { row, .. } => {
                format!("CHAIN REWRITTEN: row {row} differs from its anchored hash")
            }
        };
        let state = if self.faults.is_empty() {
            "intact"
        } else {
            "BROKEN"
        };
        format!("{state}: {} row(s) verified; {anchored}", self.verified)
    }
}

/// The walk's running state.
struct Walk {
    out: AuditCheck,
    prev: String,
    prev_id: i64,
    checkpoint: Option<Checkpoint>,
    seen_anchor: bool,
    /// The walk starts mid-chain: the first hashed row's link to the unread row before it
    /// is taken as given (that row is checked against the anchor instead).
    resumed: bool,
}

impl Walk {
    fn row(&mut self, ChainedEntry { entry: r, hash }: ChainedEntry) {
        let out = &mut self.out;
        match &hash {
            None if r.id < out.start => out.before_chain += 1,
            None => out.faults.push(format!(
                "row {} ({} {}): has no hash, though the chain began at row {}: it was \
                 cleared, or the row written outside usher",
                r.id, r.action, r.target, out.start
            )),
            Some(h) => {
                let expected =
                    chain_hash(&self.prev, r.at, &r.actor, &r.action, &r.target, &r.details);
                if !std::mem::take(&mut self.resumed) && *h != expected {
                    let gap = if self.prev_id != 0 && r.id != self.prev_id + 1 {
                        format!("; rows {} to {} are not there", self.prev_id + 1, r.id - 1)
                    } else {
                        String::new()
                    };
                    out.faults.push(format!(
                        "row {} ({} {}): does not match the chain: it was changed, or a row \
                         before it was removed{gap}",
                        r.id, r.action, r.target
                    ));
                }
                out.verified += 1;
                self.prev = h.clone();
                out.head = Some(h.clone());
            }
        }
        if let Some(c) = &self.checkpoint {
            if r.id == c.row {
                self.seen_anchor = true;
                if hash.as_deref() != Some(c.hash.as_str()) {
                    out.anchor = AnchorState::Rewritten {
                        row: c.row,
                        at: c.at,
                    };
                    out.faults.push(format!(
                        "row {}: its hash is not the one anchored outside the database: the \
                         chain was recomputed",
                        c.row
                    ));
                }
            } else if r.id > c.row
                && let AnchorState::Agrees { behind, .. } = &mut out.anchor
            {
                *behind += 1;
            }
        }
        self.prev_id = r.id;
    }

    /// Once every row is read: an anchored row never met was removed.
    fn finish(mut self) -> AuditCheck {
        if let Some(c) = &self.checkpoint
            && !self.seen_anchor
        {
            self.out.anchor = AnchorState::Removed {
                row: c.row,
                at: c.at,
            };
            let last = if self.prev_id == 0 {
                "the log is empty".to_owned()
            } else {
                format!("the log ends at row {}", self.prev_id)
            };
            self.out.faults.push(if self.prev_id < c.row {
                format!(
                    "rows were deleted: the anchor names row {} as the newest, and {last}",
                    c.row
                )
            } else {
                format!("row {}, which the anchor names, is not there", c.row)
            });
        }
        self.out
    }
}

/// Feeds the walk every row after `after`, a page at a time.
async fn walk_rows(tx: &mut Tx, walk: &mut Walk, mut after: i64) -> Result<()> {
    loop {
        let page = tx.audit_chain(after, PAGE).await?;
        let Some(last) = page.last().map(|r| r.entry.id) else {
            return Ok(());
        };
        for row in page {
            walk.row(row);
        }
        after = last;
    }
}

impl Usher {
    /// Checks the whole audit log (needs `reports.view`).
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        let mut walk = self.start_walk(&mut tx).await?;
        walk_rows(&mut tx, &mut walk, 0).await?;
        Ok(walk.finish())
    }

    /// The walk's start: the chain's first row and the anchor, each fault said.
    async fn start_walk(&self, tx: &mut Tx) -> Result<Walk> {
        let recorded = tx.audit_chain_start().await?;
        let mut out = AuditCheck {
            start: recorded,
            ..AuditCheck::default()
        };
        let checkpoint = match self.store.anchor().map(|a| a.read()) {
            None => None,
            Some(Ok(None)) => {
                out.anchor = AnchorState::NotYet;
                None
            }
            Some(Ok(Some(c))) => {
                out.anchor = AnchorState::Agrees {
                    row: c.row,
                    at: c.at,
                    behind: 0,
                };
                if c.start != recorded {
                    out.faults.push(format!(
                        "the chain's start was moved in the database, from row {} to {recorded}",
                        c.start
                    ));
                    out.start = c.start;
                }
                Some(c)
            }
            Some(Err(e @ AnchorError::Forged { .. })) => {
                out.anchor = AnchorState::Forged {
                    reason: e.to_string(),
                };
                out.faults.push(e.to_string());
                None
            }
            Some(Err(e)) => return Err(e.into()),
        };
        Ok(Walk {
            out,
            prev: String::new(),
            prev_id: 0,
            checkpoint,
            seen_anchor: false,
            resumed: false,
        })
    }

    /// Moves the anchor to the newest row (`usher audit anchor`, and `usher serve` each
    /// minute, for changes made where the key cannot be read). It refuses when the rows
    /// from the anchor on do not verify, so a rewritten chain is never anchored. Returns
    /// the row anchored, None when the log is empty.
    pub async fn anchor_audit(&self) -> Result<Option<i64>> {
        let Some(anchor) = self.store.anchor() else {
            return Err(Error::invalid(
                "audit.key_file",
                "this process has no audit key to anchor with",
            ));
        };
        let mut tx = self.store.read().await?;
        let mut walk = self.start_walk(&mut tx).await?;
        // From the anchored row on: the rows before it were checked when it was anchored.
        let after = walk.checkpoint.as_ref().map_or(0, |c| c.row - 1);
        walk.resumed = after > 0;
        walk.prev_id = after;
        walk_rows(&mut tx, &mut walk, after).await?;
        let out = walk.finish();
        if let Some(f) = out.faults.first() {
            return Err(Error::Corrupt {
                what: "the audit log".into(),
                reason: format!("{f}; not anchored (run `usher audit verify`)"),
            });
        }
        let Some((row, Some(hash))) = tx.audit_head().await? else {
            return Ok(None);
        };
        anchor.advance(row, &hash, self.clock.now().0)?;
        Ok(Some(row))
    }
}
