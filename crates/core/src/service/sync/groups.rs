//! Groups to roles (docs/sync.md#groups): each group a source maps gives its members a
//! role, at account scope or on a mailbox; a member who leaves the group loses the role
//! only if this source gave it.

use std::collections::{HashMap, HashSet};

use crate::config::{GroupRole, SyncSource};
use crate::domain::UserType;
use crate::error::{Error, Result};
use crate::import::plan::GroupGrant;
use crate::service::Usher;
use crate::service::access::check_guest;
use crate::service::roles::{grantable, mailbox_id};
use crate::store::{Account, Grantable, Tx};
use crate::sync::{Rows, normal_dn};

/// What the plan needs to know of a source's groups.
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub wanted: HashMap<u64, Vec<GroupGrant>>,
    pub roles: HashMap<i64, HashSet<(i64, i64)>>,
    pub given: HashMap<i64, Vec<GroupGrant>>,
}

/// One mapped group's role, resolved against the account.
async fn resolve(
    tx: &mut Tx,
    account: &Account,
    source: &SyncSource,
    g: &GroupRole,
) -> Result<GroupGrant> {
    let named = |e: Error| {
        Error::invalid(
            "sync.source.group",
            format!("source '{}', group {}: {e}", source.name, g.dn),
        )
    };
    let m = mailbox_id(tx, account, g.mailbox.as_deref())
        .await
        .map_err(named)?;
    let (what, perms, _) = grantable(tx, account, &g.role, m).await.map_err(named)?;
    let Grantable::Role(role_id) = what else {
        return Err(named(Error::invalid(
            "role",
            format!("'{}' is a permission; a group maps to a role", g.role),
        )));
    };
    Ok(GroupGrant {
        role_id,
        mailbox_id: m.unwrap_or(0),
        label: label(&g.role, g.mailbox.as_deref()),
        guests: check_guest("", UserType::Guest, perms).is_ok(),
    })
}

fn label(role: &str, mailbox: Option<&str>) -> String {
    match mailbox {
        Some(m) => format!("{role} on {m}"),
        None => role.to_owned(),
    }
}

impl Usher {
    /// The roles each row's groups give, the roles users hold, and those the source
    /// gave; nothing when the source maps no group.
    pub(super) async fn groups(
        &self,
        tx: &mut Tx,
        account: &Account,
        source: &SyncSource,
        rows: &Rows,
    ) -> Result<Groups> {
        if source.groups.is_empty() {
            return Ok(Groups::default());
        }
        let mut by_dn: HashMap<String, Vec<GroupGrant>> = HashMap::new();
        for g in &source.groups {
            let grant = resolve(tx, account, source, g).await?;
            by_dn.entry(normal_dn(&g.dn)).or_default().push(grant);
        }
        let mut out = Groups::default();
        for (i, groups) in rows.groups.iter().enumerate() {
            let mut grants: Vec<GroupGrant> = groups
                .iter()
                .filter_map(|dn| by_dn.get(dn))
                .flatten()
                .cloned()
                .collect();
            grants.sort_by(|a, b| a.label.cmp(&b.label));
            grants.dedup_by_key(|g| g.key());
            if !grants.is_empty() {
                out.wanted.insert(i as u64 + 1, grants);
            }
        }
        for (user, role, mailbox) in tx.user_roles(account.id).await? {
            out.roles.entry(user).or_default().insert((role, mailbox));
        }
        for g in tx.sync_given(account.id, &source.name).await? {
            if out
                .roles
                .get(&g.user_id)
                .is_some_and(|h| h.contains(&(g.role_id, g.mailbox_id)))
            {
                out.given.entry(g.user_id).or_default().push(GroupGrant {
                    role_id: g.role_id,
                    mailbox_id: g.mailbox_id,
                    label: label(&g.role, g.mailbox.as_deref()),
                    guests: true,
                });
            }
        }
        Ok(out)
    }
}
