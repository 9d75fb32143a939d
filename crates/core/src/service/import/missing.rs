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
use crate::import::plan::{Invited, Known, Outcome, Outcomes};
use crate::service::Usher;
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
        let spared = self.spared(tx).await?;
        let (mut missing, leaving) = people(plan, choice, |o| choice.deciding(o));
        missing.retain(|k| !spared(k));
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
        out.invitations_revoked += self.revoke_invitations(tx, &leaving, Why::Missing).await?;
        Ok(())
    }

    /// A sync's rows disabled at the source: their active users suspended and their
    /// pending invitations revoked, sparing the operator and the Administrators as the
    /// missing-users decision does.
    pub(super) async fn suspend_disabled(
        &self,
        tx: &mut Tx,
        choice: &Choice<'_>,
        plan: &Outcomes,
        out: &mut ApplyOutcome,
        ticker: &mut Ticker<'_>,
    ) -> Result<()> {
        if !self.state.suspends_disabled() {
            return Ok(());
        }
        let spared = self.spared(tx).await?;
        let (mut users, revoked) = people(plan, choice, |o| choice.suspending(o));
        users.retain(|k| !spared(k));
        out.suspended += self.suspend_all(tx, &users, |n| ticker.tick(n)).await?;
        out.invitations_revoked += self.revoke_invitations(tx, &revoked, Why::Disabled).await?;
        Ok(())
    }

    /// Who a run never suspends or removes: the operator, and the account's
    /// Administrators.
    async fn spared(&self, tx: &mut Tx) -> Result<impl Fn(&Known) -> bool + use<>> {
        let ids = spared_ids(self.usher, tx, self.account.id, &self.state.users).await?;
        Ok(move |k: &Known| ids.contains(&k.id))
    }
}

/// The users and pending invitations (these in id order, the table's) of the outcomes
/// `pick` chooses.
fn people<'a>(
    plan: &Outcomes,
    choice: &Choice<'a>,
    pick: impl Fn(&Outcome) -> bool,
) -> (Vec<&'a Known>, Vec<&'a Invited>) {
    let chosen = || plan.list.iter().filter(|o| pick(o));
    let users = chosen().filter_map(|o| choice.user_of(o)).collect();
    let mut invitations: Vec<&Invited> = chosen().filter_map(|o| choice.invitation_of(o)).collect();
    invitations.sort_unstable_by_key(|i| i.id);
    (users, invitations)
}

/// The operator's user and the account's first user, by id: the first Administrator,
/// from `usher init`.
pub(crate) fn operator_and_first(usher: &Usher, users: &[Known]) -> HashSet<i64> {
    let me = Email::parse(&usher.actor().name)
        .ok()
        .map(|e| e.canonical().to_owned());
    let mut ids: HashSet<i64> = users.iter().map(|u| u.id).min().into_iter().collect();
    ids.extend(
        users
            .iter()
            .filter(|u| me.as_deref() == Some(u.email()))
            .map(|u| u.id),
    );
    ids
}

/// The ids of the users an import or sync never suspends or removes: the operator, and
/// the account's Administrators (the first user, from `usher init`, included), so that
/// a file or directory that forgets them cannot lock the account out.
pub(crate) async fn spared_ids(
    usher: &Usher,
    tx: &mut Tx,
    account_id: i64,
    users: &[Known],
) -> Result<HashSet<i64>> {
    let mut ids = operator_and_first(usher, users);
    if let Some(role) = tx.role_by_name(account_id, "Administrator").await? {
        ids.extend(tx.active_holders_of(role.id).await?);
    }
    Ok(ids)
}
