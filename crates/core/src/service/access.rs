//! Who the operator is and what they may do: every change checks here first, so the rule
//! holds the same on the CLI, in the console and in anything built on the core.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Usher;
use crate::domain::permission::system_role;
use crate::domain::{Email, Permission, Scope, UserStatus, UserType};
use crate::error::{Error, Result};
use crate::store::{Account, Holder, Tx};

/// The operator as the core sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// The account user they act as; None for the host's administrator (no `operator`
    /// configured: whoever can run usher on the host can read the database anyway).
    pub user_id: Option<i64>,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
    /// Why inviting is off for them (for the whole account, or for them alone), if it is.
    pub invite_off: Option<String>,
}

impl Operator {
    pub fn may(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

/// The permissions a holder has at one scope (the account when `mailbox` is None), from
/// its roles and its single permissions.
pub(super) async fn effective(
    tx: &mut Tx,
    holder: Holder,
    mailbox: Option<i64>,
) -> Result<BTreeSet<Permission>> {
    let grants = tx.grants_of(holder).await?;
    let custom = tx.custom_role_permissions_of(holder).await?;
    let mut out = BTreeSet::new();
    for g in grants.iter().filter(|g| g.mailbox_id == mailbox) {
        if let Some(p) = &g.permission {
            out.extend(p.parse::<Permission>().ok());
        } else if g.role_system == Some(true) {
            let role = g.role.as_deref().and_then(system_role);
            out.extend(role.map(|r| r.permissions).unwrap_or_default());
        } else if let Some(id) = g.role_id {
            out.extend(
                custom
                    .iter()
                    .filter(|(r, _)| *r == id)
                    .filter_map(|(_, p)| p.parse::<Permission>().ok()),
            );
        }
    }
    out.retain(|p| p.scope() == Scope::of_grant(mailbox));
    Ok(out)
}

/// Refuses permissions a guest may not hold, naming them.
pub(super) fn check_guest(
    who: &str,
    user_type: UserType,
    permissions: impl IntoIterator<Item = Permission>,
) -> Result<()> {
    if user_type != UserType::Guest {
        return Ok(());
    }
    let barred: Vec<&str> = permissions
        .into_iter()
        .filter(|p| !p.guest_may_hold())
        .map(Permission::key)
        .collect();
    if barred.is_empty() {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "{who}: a guest cannot hold {} (guests cannot invite, recall, request signatures or \
         administer the account)",
        barred.join(", ")
    )))
}

impl Usher {
    /// The operator and their account permissions, as of this transaction.
    pub(super) async fn operator_in(&self, tx: &mut Tx, account: &Account) -> Result<Operator> {
        let name = self.actor.name.clone();
        if name.starts_with("os:") {
            return Ok(Operator {
                user_id: None,
                invite_off: None,
                name,
                permissions: Permission::ALL
                    .iter()
                    .copied()
                    .filter(|p| p.scope() == Scope::Account)
                    .collect(),
            });
        }
        let unknown = || {
            Error::Forbidden(format!(
                "the operator {name} is not an active user of account '{}': set `operator` \
                 (USHER_OPERATOR) to your own address in the account",
                account.name
            ))
        };
        let email = Email::parse(&name).map_err(|_| unknown())?;
        let user = tx
            .user_by_email(account.id, email.canonical())
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(unknown)?;
        let permissions = effective(tx, Holder::User(user.id), None).await?;
        Ok(Operator {
            user_id: Some(user.id),
            name,
            permissions,
            invite_off: None,
        })
    }

    /// Refuses, saying why, unless the operator holds `p`.
    pub(super) async fn require(
        &self,
        tx: &mut Tx,
        account: &Account,
        p: Permission,
    ) -> Result<Operator> {
        let op = self.operator_in(tx, account).await?;
        if op.may(p) {
            Ok(op)
        } else {
            Err(Error::Forbidden(format!(
                "{} may not {}: that needs the permission {} (`usher roles list` shows the \
                 roles that hold it)",
                op.name,
                p.describe(),
                p.key()
            )))
        }
    }

    /// The operator's account permissions, for front ends to hide what they may not do.
    pub async fn operator(&self) -> Result<Operator> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let mut op = self.operator_in(&mut tx, &account).await?;
        op.invite_off = self
            .may_invite(&mut tx, &account)
            .await
            .err()
            .map(|e| e.to_string());
        Ok(op)
    }
}
