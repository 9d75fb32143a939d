//! The missing-users decision: users the file does not mention suspended or removed, and
//! the pending invitations of leavers revoked, sparing the operator and the account's
//! Administrators.

use std::collections::HashSet;

use super::choice::Choice;
use super::edits::Edits;
use super::options::{ApplyOutcome, Missing};
use super::pending::Why;
use super::rows::Ticker;
use crate::domain::Email;
use crate::error::Result;
use crate::import::plan::{Invited, Known, Outcomes};
use crate::store::Tx;

impl Edits<'_> {
    pub(super) async fn decide_missing(
        &self,
        tx: &mut Tx,
        choice: &Choice<'_>,
        plan: &Outcomes,
        out: &mut ApplyOutcome,
        ticker: &mut Ticker<'_>,
    ) -> Result<()> {
        let decision = choice.opts.missing;
        if decision == Missing::Keep {
            return Ok(());
        }
        // The operator is never suspended or removed by their own import, nor are the
        // account's Administrators.
        let me = Email::parse(&self.usher.actor().name)
            .ok()
            .map(|e| e.canonical().to_owned());
        let admins = self.administrators(tx).await?;
        let missing: Vec<&Known> = plan
            .list
            .iter()
            .filter(|o| choice.deciding(o))
            .filter_map(|o| choice.user_of(o))
            .filter(|k| me.as_deref() != Some(k.email()) && !admins.contains(&k.id))
            .collect();
        // Those left alone count as done at once.
        ticker.done += ticker
            .work
            .saturating_sub(ticker.done + missing.len() as u64);
        let tick = |n: usize| ticker.tick(n);
        if decision == Missing::Suspend {
            out.suspended += self.suspend_all(tx, &missing, tick).await?;
        } else {
            out.removed += self.remove_all(tx, &missing, tick).await?;
        }
        // A leaver's pending invitation dies whichever the decision: there is no account
        // to keep suspended.
        let mut leaving: Vec<&Invited> = plan
            .list
            .iter()
            .filter(|o| choice.deciding(o))
            .filter_map(|o| choice.invitation_of(o))
            .collect();
        leaving.sort_unstable_by_key(|i| i.id);
        out.invitations_revoked += self.revoke_invitations(tx, &leaving, Why::Missing).await?;
        Ok(())
    }

    /// The account's Administrators (the first user, from `usher init`, included): a
    /// file that forgets them must not lock the account out. Their ids.
    async fn administrators(&self, tx: &mut Tx) -> Result<HashSet<i64>> {
        let first = self.state.users.iter().map(|u| u.id).min();
        let mut ids: HashSet<i64> = first.into_iter().collect();
        if let Some(role) = tx.role_by_name(self.account.id, "Administrator").await? {
            ids.extend(tx.active_holders_of(role.id).await?);
        }
        Ok(ids)
    }
}
