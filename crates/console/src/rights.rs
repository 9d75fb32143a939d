//! Which console commands need which permission. The core enforces every rule; this only
//! lets the console hide and explain what its operator may not do, before they try.

use std::collections::BTreeMap;

use super::keymap::Cmd;
use usher_core::domain::Permission;
use usher_core::service::Operator;

/// The permission a command needs, if any.
pub fn needs(cmd: Cmd) -> Option<Permission> {
    use Cmd::*;
    Some(match cmd {
        Invite | Resend | ResendExpired | Revoke => Permission::InviteUsers,
        ToggleType | Suspend | Reactivate | Remove | ResetPassword => Permission::ManageUsers,
        Apply | Undo | SyncApply | SyncApprove => Permission::ImportUsers,
        NewRole | EditRole | DeleteRole | Grant | RevokeGrant => Permission::ManageRoles,
        AddDomain | VerifyDomain | VerifyManually | ActivateDomain | DeactivateDomain => {
            Permission::ManageDomains
        }
        NewMailbox | PersonalMailbox => Permission::ManageMailboxes,
        CreateUser => Permission::CreateUsers,
        Report => Permission::ViewReports,
        Templates => Permission::ManageSettings,
        _ => return None,
    })
}

/// Every command the operator may not run, with a sentence that says why.
pub fn denied(op: &Operator) -> BTreeMap<Cmd, String> {
    Cmd::ALL
        .iter()
        .filter_map(|&cmd| {
            let p = needs(cmd)?;
            (!op.may(p)).then(|| {
                (
                    cmd,
                    format!(
                        "{} may not {}: that needs the permission {}",
                        op.name,
                        p.describe(),
                        p.key()
                    ),
                )
            })
        })
        .chain(
            // Inviting switched off (docs/rules.md#invitations): the keys say why, whatever
            // the roles.
            op.invite_off.iter().flat_map(|why| {
                [Cmd::Invite, Cmd::Resend, Cmd::ResendExpired].map(|c| (c, why.clone()))
            }),
        )
        .collect()
}
