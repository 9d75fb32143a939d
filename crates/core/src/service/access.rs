//! Who the operator is and what they may do: every change checks here first, so the rule
//! holds the same on the CLI, in the console and in anything built on the core.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Usher;
use crate::domain::permission::system_role;
use crate::domain::{Email, Permission, Scope, UserStatus, UserType};
use crate::error::{Error, Result};
use crate::store::{Account, Holder, Identity, Tx};

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
    /// Who authenticated (`os:LOGIN`, `db:ROLE`), and whether that is the database's
    /// owner, who may do everything.
    pub identity: String,
    pub owner: bool,
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

/// The address an identity that is not the owner's may act as: the one it is linked to,
/// in this account, and no other even when the configuration names another.
async fn linked_address(
    tx: &mut Tx,
    identity: &Identity,
    account: &Account,
    name: &str,
) -> Result<String> {
    let how = if identity.who.starts_with("db:") {
        format!(
            "`usher operators add ADDRESS --db-role {}`",
            identity.who.trim_start_matches("db:")
        )
    } else {
        format!("`usher operators link {} ADDRESS`", identity.who)
    };
    let link = tx
        .operator_link(&identity.who)
        .await?
        .filter(|l| l.account_id == account.id)
        .ok_or_else(|| {
            Error::Forbidden(format!(
                "{} is not an operator of account '{}': an Administrator links it to a user \
                 with {how}",
                identity.who, account.name
            ))
        })?;
    let claimed = name.trim();
    let same = Email::parse(claimed).is_ok_and(|e| e.canonical() == link.email);
    if !(same || claimed.starts_with("os:") || claimed.starts_with("db:")) {
        return Err(Error::Forbidden(format!(
            "{} acts as {} only: the operator {claimed} (USHER_OPERATOR or `operator`) is \
             not it; only the database's owner may act as another user",
            identity.who, link.email
        )));
    }
    Ok(link.email)
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
    /// Who this process is, as the database or the operating system says, kept for the
    /// rest of its life; the actor's name becomes the linked user's address for an
    /// operator who is not the owner, so the audit log names both. An identity with no
    /// link is kept too: it may read what needs no permission, and is refused the rest.
    pub async fn authenticate(self) -> Result<Self> {
        let identity = self.store.identity().await?;
        let mut actor = self.actor.clone();
        if !identity.owner {
            let mut tx = self.store.read().await?;
            if let Some(link) = tx.operator_link(&identity.who).await? {
                if actor.name.starts_with("os:") {
                    actor.name = link.email;
                }
            } else if actor.name.starts_with("os:") {
                actor.name = identity.who.clone();
            }
        }
        actor.identity = Some(identity.who);
        Ok(Self { actor, ..self })
    }

    /// Whether this process may send the mail it queues: not an operator's own PostgreSQL
    /// role, which may queue mail but not read it back (its links are secrets), so
    /// `usher serve`, running as the owner, sends it.
    pub fn may_send_mail(&self) -> bool {
        self.store
            .known_identity()
            .is_none_or(|i| i.owner || !i.who.starts_with("db:"))
    }

    /// The operator and their account permissions, as of this transaction. The owner
    /// acts as the configured user, or as the host's administrator with every permission;
    /// anyone else only as the user their identity is linked to (docs/operators.md).
    pub(super) async fn operator_in(&self, tx: &mut Tx, account: &Account) -> Result<Operator> {
        let identity = self.store.identity().await?;
        let name = self.actor.name.clone();
        if identity.owner && name.starts_with("os:") {
            return Ok(Operator {
                user_id: None,
                invite_off: None,
                name,
                permissions: Permission::ALL
                    .iter()
                    .copied()
                    .filter(|p| p.scope() == Scope::Account)
                    .collect(),
                identity: identity.who,
                owner: true,
            });
        }
        let address = if identity.owner {
            name.clone()
        } else {
            linked_address(tx, &identity, account, &name).await?
        };
        let unknown = || {
            Error::Forbidden(format!(
                "the operator {address} is not an active user of account '{}': set `operator` \
                 (USHER_OPERATOR) to your own address in the account",
                account.name
            ))
        };
        let email = Email::parse(&address).map_err(|_| unknown())?;
        let user = tx
            .user_by_email(account.id, email.canonical())
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(unknown)?;
        let permissions = effective(tx, Holder::User(user.id), None).await?;
        Ok(Operator {
            user_id: Some(user.id),
            name: address,
            permissions,
            invite_off: None,
            identity: identity.who,
            owner: identity.owner,
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
