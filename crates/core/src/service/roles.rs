//! Roles and grants (docs/rules.md#roles): system roles, custom roles, and roles or single
//! permissions granted to users and pending invitations, for the account or one mailbox.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;

use super::access::{check_guest, effective};
use super::{Target, Usher, check_name, parse_one};
use crate::domain::permission::system_role;
use crate::domain::{InvitationStatus, Permission, Scope, Timestamp, UserType};
use crate::error::{Clash, Error, Result};
use crate::store::{Account, Grant, Grantable, Holder, Invitation, Member, Role, Tx, User};

/// A role with what it allows and how many hold it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    #[serde(flatten)]
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub holders: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleDetail {
    #[serde(flatten)]
    pub view: RoleView,
    pub members: Vec<Member>,
}

impl From<RoleView> for crate::import::template::RoleLine {
    fn from(r: RoleView) -> Self {
        Self {
            name: r.role.name,
            scope: r.role.scope,
            system: r.role.system,
            description: r.role.description,
            permissions: r.permissions.iter().map(|p| p.key().to_owned()).collect(),
        }
    }
}

/// Who receives a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A user; by address, a pending invitation when no user has it.
    User(Target),
    Invitation(Target),
}

/// A custom role to create, or the new state of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
}

/// A resolved holder: its id, address and type, for checks and messages.
struct Resolved {
    holder: Holder,
    email: String,
    user_type: UserType,
}

impl From<User> for Resolved {
    fn from(u: User) -> Self {
        Self {
            holder: Holder::User(u.id),
            email: u.email_display,
            user_type: u.user_type,
        }
    }
}

impl From<Invitation> for Resolved {
    fn from(i: Invitation) -> Self {
        Self {
            holder: Holder::Invitation(i.id),
            email: i.email_display,
            user_type: i.user_type,
        }
    }
}

impl Usher {
    /// The account's roles, system roles first.
    pub async fn roles(&self) -> Result<Vec<RoleView>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let mut out = Vec::new();
        for role in tx.roles(account.id).await? {
            out.push(view(&mut tx, role).await?);
        }
        Ok(out)
    }

    pub async fn role(&self, name: &str) -> Result<RoleDetail> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let role = find_role(&mut tx, &account, name).await?;
        let members = tx.role_members(role.id).await?;
        Ok(RoleDetail {
            view: view(&mut tx, role).await?,
            members,
        })
    }

    pub async fn create_role(&self, scope: Scope, spec: &RoleSpec) -> Result<RoleView> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageRoles)
            .await?;
        let (name, description, permissions) = checked(scope, spec)?;
        if system_role(&name).is_some() || tx.role_by_name(account.id, &name).await?.is_some() {
            return Err(Error::conflict(
                Clash::Exists,
                format!("a role named '{name}' exists already"),
            ));
        }
        let id = tx
            .insert_role(account.id, &name, scope.as_str(), &description, now)
            .await?;
        let keys: Vec<&str> = permissions.iter().map(|p| p.key()).collect();
        tx.set_role_permissions(id, &keys).await?;
        self.log_change(
            &mut tx,
            "role.create",
            &format!("role:{id} {name}"),
            json!({"scope": scope, "permissions": keys, "description": description}),
        )
        .await?;
        let role = find_role(&mut tx, &account, &name).await?;
        let v = view(&mut tx, role).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Renames, redescribes and sets the permissions of a custom role. A permission a
    /// guest may not hold is refused while a guest holds the role.
    pub async fn edit_role(&self, name: &str, spec: &RoleSpec) -> Result<RoleView> {
        let now = self.clock.now();
        let (mut tx, account, role) = self.custom_role(name, "changed").await?;
        let scope: Scope = role
            .scope
            .parse()
            .map_err(|e| Error::corrupt(format!("role {}", role.name), e))?;
        let (new_name, description, permissions) = checked(scope, spec)?;
        if !new_name.eq_ignore_ascii_case(&role.name)
            && (system_role(&new_name).is_some()
                || tx.role_by_name(account.id, &new_name).await?.is_some())
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!("a role named '{new_name}' exists already"),
            ));
        }
        let guests = tx.role_guest_holders(role.id).await?;
        if let Some(g) = guests.first() {
            check_guest(
                &format!("{g} (holder of '{}')", role.name),
                UserType::Guest,
                permissions.iter().copied(),
            )?;
        }
        let before = tx.role_permissions(role.id).await?;
        tx.update_role(role.id, &new_name, &description, now)
            .await?;
        let keys: Vec<&str> = permissions.iter().map(|p| p.key()).collect();
        tx.set_role_permissions(role.id, &keys).await?;
        self.log_change(
            &mut tx,
            "role.edit",
            &format!("role:{} {new_name}", role.id),
            json!({"name_before": role.name, "permissions_before": before, "permissions": keys}),
        )
        .await?;
        let role = find_role(&mut tx, &account, &new_name).await?;
        let v = view(&mut tx, role).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Deletes a custom role. One that is held is deleted only when `in_use_ok` (the
    /// CLI's `--yes`, the console's confirmation), and its grants go with it.
    pub async fn delete_role(&self, name: &str, in_use_ok: bool) -> Result<u64> {
        let (mut tx, _account, role) = self.custom_role(name, "deleted").await?;
        let held = tx.count_role_grants(role.id).await?;
        if held > 0 && !in_use_ok {
            return Err(Error::conflict(
                Clash::InUse,
                format!(
                    "'{}' is held by {held} user(s) or invitation(s); deleting it revokes it from \
                 them all (confirm with --yes)",
                    role.name
                ),
            ));
        }
        let revoked = tx.delete_role(role.id).await?;
        self.log_change(
            &mut tx,
            "role.delete",
            &format!("role:{} {}", role.id, role.name),
            json!({"revoked": revoked}),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Grants a role or a single permission (`what`: a role's name or a permission's key)
    /// to a user or a pending invitation, for the account or one mailbox.
    pub async fn grant(&self, who: &Who, what: &str, mailbox: Option<&str>) -> Result<Grant> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        let op = self
            .require(&mut tx, &account, Permission::ManageRoles)
            .await?;
        let r = resolve(&mut tx, &account, who, self.clock.now()).await?;
        let mailbox_id = mailbox_id(&mut tx, &account, mailbox).await?;
        let (grantable, perms, label) = grantable(&mut tx, &account, what, mailbox_id).await?;
        check_guest(&r.email, r.user_type, perms.iter().copied())?;
        if !tx
            .insert_grant(account.id, r.holder, &grantable, mailbox_id, &op.name, now)
            .await?
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!("{} already holds {label}{}", r.email, at(mailbox)),
            ));
        }
        self.log_change(
            &mut tx,
            "grant",
            &target(&r),
            json!({"grant": label, "mailbox": mailbox}),
        )
        .await?;
        let g = tx
            .grants_of(r.holder)
            .await?
            .into_iter()
            .rev()
            .find(|g| g.mailbox_id == mailbox_id && matches_grant(g, &grantable))
            .ok_or_else(|| Error::NotFound("the grant just made".into()))?;
        tx.commit().await?;
        Ok(g)
    }

    /// Revokes what `grant` gave. The account always keeps an active Administrator.
    pub async fn revoke_grant(&self, who: &Who, what: &str, mailbox: Option<&str>) -> Result<()> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageRoles)
            .await?;
        let r = resolve(&mut tx, &account, who, self.clock.now()).await?;
        let mailbox_id = mailbox_id(&mut tx, &account, mailbox).await?;
        let (grantable, _, label) = grantable(&mut tx, &account, what, mailbox_id).await?;
        if let (Grantable::Role(id), Holder::User(user), None) = (&grantable, r.holder, mailbox_id)
        {
            let admin = tx.role_by_name(account.id, "Administrator").await?;
            if admin.map(|a| a.id) == Some(*id) {
                self.keep_an_administrator(&mut tx, &account, user).await?;
            }
        }
        if !tx.delete_grant(r.holder, &grantable, mailbox_id).await? {
            return Err(Error::NotFound(format!(
                "{} does not hold {label}{}",
                r.email,
                at(mailbox)
            )));
        }
        self.log_change(
            &mut tx,
            "revoke",
            &target(&r),
            json!({"grant": label, "mailbox": mailbox}),
        )
        .await?;
        tx.commit().await
    }

    /// A user's or invitation's grants, and the permissions they add up to per scope.
    pub async fn grants(&self, who: &Who) -> Result<(Vec<Grant>, BTreeSet<Permission>)> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let r = resolve(&mut tx, &account, who, self.clock.now()).await?;
        let grants = tx.grants_of(r.holder).await?;
        let mut all = effective(&mut tx, r.holder, None).await?;
        let mailboxes: BTreeSet<i64> = grants.iter().filter_map(|g| g.mailbox_id).collect();
        for m in mailboxes {
            all.extend(effective(&mut tx, r.holder, Some(m)).await?);
        }
        Ok((grants, all))
    }

    /// A write transaction on a custom role, for an operator who may manage roles; a system
    /// role is refused (it cannot be `verb`).
    async fn custom_role(&self, name: &str, verb: &str) -> Result<(Tx, Account, Role)> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageRoles)
            .await?;
        let role = find_role(&mut tx, &account, name).await?;
        if role.system {
            return Err(Error::Forbidden(format!(
                "'{}' is a system role and cannot be {verb}; create a custom role instead",
                role.name
            )));
        }
        Ok((tx, account, role))
    }

    /// Refuses to leave the account without an active Administrator: `user` is about to
    /// lose the role, be suspended or be removed.
    pub(super) async fn keep_an_administrator(
        &self,
        tx: &mut Tx,
        account: &Account,
        user: i64,
    ) -> Result<()> {
        let Some(admin) = tx.role_by_name(account.id, "Administrator").await? else {
            return Ok(());
        };
        if tx.active_holders_of(admin.id).await? == [user] {
            return Err(Error::Forbidden(
                "this is the account's last active Administrator; make someone else an \
                 Administrator first"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Appends this operator's audit entry for a change, stamped now.
    pub(super) async fn log_change(
        &self,
        tx: &mut Tx,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        self.record(tx, self.clock.now(), action, target, details)
            .await
    }
}

async fn view(tx: &mut Tx, role: Role) -> Result<RoleView> {
    // In the catalog's order, which groups them by subject.
    let mut permissions = match system_role(&role.name).filter(|_| role.system) {
        Some(s) => s.permissions.to_vec(),
        None => tx
            .role_permissions(role.id)
            .await?
            .iter()
            .filter_map(|k| k.parse().ok())
            .collect(),
    };
    permissions.sort();
    let holders = tx.count_role_grants(role.id).await?;
    Ok(RoleView {
        role,
        permissions,
        holders,
    })
}

async fn find_role(tx: &mut Tx, account: &Account, name: &str) -> Result<Role> {
    tx.role_by_name(account.id, name).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "role '{}' (`usher roles list` names them)",
            name.trim()
        ))
    })
}

/// A role spec's name, description and permissions, checked against its scope.
fn checked(scope: Scope, spec: &RoleSpec) -> Result<(String, String, Vec<Permission>)> {
    let name = check_name("name", &spec.name)?;
    if name.is_empty() {
        return Err(Error::invalid("name", "a role needs a name"));
    }
    if name.chars().count() > 64 {
        return Err(Error::invalid("name", "longer than 64 characters"));
    }
    // `grant USER WHAT` reads WHAT as a permission first, so a role so named could never
    // be granted.
    if name.parse::<Permission>().is_ok() {
        return Err(Error::invalid(
            "name",
            format!("'{name}' is a permission's name; a role needs another"),
        ));
    }
    let description = check_name("description", &spec.description)?;
    let mut permissions = BTreeSet::new();
    for key in &spec.permissions {
        let p: Permission = key
            .parse()
            .map_err(|e: String| Error::invalid("permissions", e))?;
        if p.scope() != scope {
            return Err(Error::invalid(
                "permissions",
                format!(
                    "{p} is a {} permission; this role is for the {scope}",
                    p.scope()
                ),
            ));
        }
        permissions.insert(p);
    }
    Ok((name, description, permissions.into_iter().collect()))
}

async fn resolve(tx: &mut Tx, account: &Account, who: &Who, now: Timestamp) -> Result<Resolved> {
    // An expired invitation can still be resent, so it can still be promised grants.
    let pending = |i: &Invitation| {
        matches!(
            i.status,
            InvitationStatus::Pending | InvitationStatus::Expired
        )
    };
    match who {
        Who::User(Target::Id(id)) => {
            let u = tx
                .user_by_id(account.id, *id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
            Ok(u.into())
        }
        Who::User(Target::Email(e)) => {
            let email = parse_one(e)?;
            if let Some(u) = tx.user_by_email(account.id, email.canonical()).await? {
                return Ok(u.into());
            }
            let inv = tx
                .invitation_for_email(account.id, email.canonical(), now)
                .await?
                .filter(pending)
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no user or pending invitation for {}",
                        email.display()
                    ))
                })?;
            Ok(inv.into())
        }
        Who::Invitation(t) => {
            let inv = match t {
                Target::Id(id) => tx.invitation(account.id, *id, now).await?,
                Target::Email(e) => {
                    tx.invitation_for_email(account.id, parse_one(e)?.canonical(), now)
                        .await?
                }
            }
            .filter(pending)
            .ok_or_else(|| Error::NotFound(format!("pending invitation {t}")))?;
            Ok(inv.into())
        }
    }
}

pub(super) async fn mailbox_id(
    tx: &mut Tx,
    account: &Account,
    mailbox: Option<&str>,
) -> Result<Option<i64>> {
    let Some(address) = mailbox else {
        return Ok(None);
    };
    let email = parse_one(address)?;
    let m = tx
        .mailbox_by_address(account.id, email.canonical())
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "mailbox {} (`usher mailboxes list` names them)",
                email.display()
            ))
        })?;
    Ok(Some(m.id))
}

/// A role's name or a permission's key, checked against the grant's scope; with the
/// permissions it carries and a label for messages.
pub(super) async fn grantable(
    tx: &mut Tx,
    account: &Account,
    what: &str,
    mailbox_id: Option<i64>,
) -> Result<(Grantable, Vec<Permission>, String)> {
    let scope = Scope::of_grant(mailbox_id);
    let (g, perms, label, its_scope) = if let Ok(p) = what.parse::<Permission>() {
        (
            Grantable::Permission(p.key().to_owned()),
            vec![p],
            format!("the permission {p}"),
            p.scope(),
        )
    } else {
        let role = find_role(tx, account, what).await?;
        let v = view(tx, role).await?;
        let s: Scope = v
            .role
            .scope
            .parse()
            .map_err(|e| Error::corrupt(format!("role {}", v.role.name), e))?;
        (
            Grantable::Role(v.role.id),
            v.permissions,
            format!("the role '{}'", v.role.name),
            s,
        )
    };
    if its_scope != scope {
        let hint = if its_scope == Scope::Mailbox {
            "name the mailbox with --mailbox"
        } else {
            "grant it without --mailbox"
        };
        return Err(Error::invalid(
            "grant",
            format!("{label} is for a {its_scope}, not the {scope}: {hint}"),
        ));
    }
    Ok((g, perms, label))
}

fn matches_grant(g: &Grant, what: &Grantable) -> bool {
    match what {
        Grantable::Role(id) => g.role_id == Some(*id),
        Grantable::Permission(p) => g.permission.as_deref() == Some(p),
    }
}

fn at(mailbox: Option<&str>) -> String {
    mailbox.map(|m| format!(" on {m}")).unwrap_or_default()
}

fn target(r: &Resolved) -> String {
    match r.holder {
        Holder::User(id) => format!("user:{id} {}", r.email),
        Holder::Invitation(id) => format!("invitation:{id} {}", r.email),
    }
}
