//! Which of the plan's outcomes an apply carries out: the buckets applied, less what the
//! operator skipped or excluded, and the missing users when a decision was made.

use std::collections::HashSet;

use super::options::{ApplyOptions, Missing};
use crate::import::plan::{
    AccountState, Bucket, Invited, Known, Outcome, Outcomes, Source, replaces,
};
use crate::import::{ImportRow, Parsed};

pub(super) struct Choice<'a> {
    pub parsed: &'a Parsed,
    pub state: &'a AccountState,
    pub opts: &'a ApplyOptions,
    /// A roles workbook creates users directly and invites no one.
    pub workbook: bool,
    /// Missing users left alone, by address as typed or canonical, in any case (Unicode
    /// too: a user left alone must never be suspended for want of a case match).
    left_alone: HashSet<String>,
    /// The same by unique reference.
    left_alone_refs: HashSet<&'a str>,
}

impl<'a> Choice<'a> {
    pub fn new(parsed: &'a Parsed, state: &'a AccountState, opts: &'a ApplyOptions) -> Self {
        Self {
            parsed,
            state,
            opts,
            workbook: parsed.workbook.is_some(),
            left_alone: opts
                .exclude_emails
                .iter()
                .map(|e| e.trim().to_lowercase())
                .collect(),
            left_alone_refs: opts.exclude_refs.iter().map(String::as_str).collect(),
        }
    }

    pub fn row_of(&self, o: &Outcome) -> Option<&'a ImportRow> {
        match o.source {
            Source::Row(i) => self.parsed.rows.get(i as usize),
            _ => None,
        }
    }

    pub fn user_of(&self, o: &Outcome) -> Option<&'a Known> {
        o.user().and_then(|i| self.state.users.get(i))
    }

    pub fn invitation_of(&self, o: &Outcome) -> Option<&'a Invited> {
        o.invitation().and_then(|i| self.state.pending.get(i))
    }

    /// Left out by the operator: its row in an excluded range, or a missing user's
    /// address left alone.
    fn excluded(&self, o: &Outcome) -> bool {
        let person = self
            .user_of(o)
            .map(|u| &**u)
            .or(self.invitation_of(o).map(|i| &**i));
        match (self.row_of(o), person) {
            (Some(r), _) => self
                .opts
                .exclude_rows
                .iter()
                .any(|(a, b)| (*a..=*b).contains(&r.row)),
            (None, Some(p)) => {
                self.left_alone.contains(&p.email_display().to_lowercase())
                    || self.left_alone.contains(p.email())
                    || p.unique_ref()
                        .is_some_and(|r| self.left_alone_refs.contains(r))
            }
            _ => false,
        }
    }

    /// A row the apply writes: new, updated, or outside the domains when chosen.
    pub fn applies(&self, o: &Outcome) -> bool {
        let b = o.bucket;
        (b == Bucket::New
            || b == Bucket::Updated
            || (self.opts.include_outside && b == Bucket::OutsideDomains))
            && !self.opts.skip.contains(&b)
            && !self.excluded(o)
    }

    /// A missing user (or a leaver's invitation) the missing-users decision acts on.
    pub fn deciding(&self, o: &Outcome) -> bool {
        self.opts.missing != Missing::Keep
            && !self.opts.skip.contains(&Bucket::Missing)
            && o.bucket == Bucket::Missing
            && !self.excluded(o)
    }

    /// A row disabled at the source that a sync carries out: its active user suspended,
    /// its pending invitation revoked.
    pub fn suspending(&self, o: &Outcome) -> bool {
        self.state.suspends_disabled()
            && o.bucket == Bucket::Disabled
            && !self.opts.skip.contains(&Bucket::Disabled)
            && !self.excluded(o)
    }

    /// Sending a pending invitation again (new address, or expired) is inviting too.
    fn sends_again(&self, o: &Outcome) -> bool {
        let inv = self.invitation_of(o);
        o.bucket == Bucket::Updated && inv.zip(self.row_of(o)).is_some_and(|(i, r)| replaces(i, r))
    }

    /// Whether the apply sends any invitation, so needs inviting to be on.
    pub fn invites(&self, plan: &Outcomes) -> bool {
        !self.workbook
            && !self.state.creates_directly()
            && plan.list.iter().filter(|o| self.applies(o)).any(|o| {
                o.bucket == Bucket::New || o.bucket == Bucket::OutsideDomains || self.sends_again(o)
            })
    }

    /// Written after the pass over the file, in chunks (invitations and updates), rather
    /// than one at a time during it.
    pub fn later(&self, o: &Outcome, r: &ImportRow) -> bool {
        let invite = matches!(o.bucket, Bucket::New | Bucket::OutsideDomains)
            && r.password.is_none()
            && !self.state.creates_directly();
        !self.workbook && (invite || o.bucket == Bucket::Updated)
    }
}
