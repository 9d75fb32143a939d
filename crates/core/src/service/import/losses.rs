//! What a plan would take away, counted before anything is written: the suspensions,
//! removals and role losses a sync's limits weigh (docs/sync.md#limits), and whether it
//! would change anything at all.

use serde::Serialize;

use super::choice::Choice;
use super::options::{ApplyOptions, Missing};
use crate::domain::UserStatus;
use crate::import::Parsed;
use crate::import::plan::{AccountState, Outcome};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Losses {
    /// The account's active users before the run: what the shares are of.
    pub active_users: u64,
    pub suspend: u64,
    pub remove: u64,
    pub role_loss: u64,
    /// Outcomes that change something (new, updated, suspended, removed, revoked).
    pub changes: u64,
}

/// Counts what applying `list` with `opts` would do.
pub fn losses(
    list: &[Outcome],
    parsed: &Parsed,
    state: &AccountState,
    opts: &ApplyOptions,
) -> Losses {
    let choice = Choice::new(parsed, state, opts);
    let mut out = Losses {
        active_users: state
            .users
            .iter()
            .filter(|u| u.status == UserStatus::Active)
            .count() as u64,
        ..Losses::default()
    };
    for o in list {
        let user = choice.user_of(o).filter(|u| !state.spares(u.id));
        let active = user.is_some_and(|u| u.status == UserStatus::Active);
        let invitation = choice.invitation_of(o).is_some();
        if choice.applies(o) {
            out.changes += 1;
            let lost = match (choice.user_of(o), choice.row_of(o)) {
                (Some(u), Some(r)) => !state.role_changes(u, r.row).lost.is_empty(),
                _ => false,
            };
            out.role_loss += u64::from(lost);
        } else if choice.suspending(o) && (active || invitation) {
            // A spared user's row changes nothing: `user` is None for them.
            out.changes += 1;
            out.suspend += u64::from(active);
        } else if choice.deciding(o) {
            match opts.missing {
                Missing::Suspend if active => out.suspend += 1,
                Missing::Remove if user.is_some() => out.remove += 1,
                _ if !invitation => continue,
                _ => {}
            }
            out.changes += 1;
        }
    }
    out
}
