//! Directory sync runs (docs/sync.md): a source read whole, then planned, previewed,
//! applied and undone as a file import is, under limits that hold a run which would take
//! too much away until an operator approves that very run.

use serde::Serialize;

mod apply;
mod groups;
mod preview;
mod read;
mod records;
mod schedule;
mod status;

use super::import::Losses;
use crate::config::{Limit, SyncSource};
use crate::import::Progress;
use crate::import::plan::Plan;
use crate::service::ApplyOutcome;

pub use schedule::Due;
pub use status::SourceStatus;

/// How a run is asked for.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Apply a run a limit held, if its plan is still the one that was held.
    pub approve: Option<i64>,
    /// Read only the entries changed since the last run that applied or found nothing
    /// to do (a full read when there is none). No one is missing from such a read.
    pub changes_only: bool,
    /// Told of each page read and of the rows applied.
    pub progress: Progress,
}

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
    /// "full", or "changes" for an incremental read.
    pub scope: &'static str,
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
