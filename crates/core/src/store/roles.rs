//! Roles, their permissions, and grants to users and pending invitations, at account or
//! mailbox scope.

use serde::Serialize;

use super::{Tx, on_tx};
use crate::domain::Timestamp;
use crate::domain::permission::SYSTEM_ROLES;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub description: String,
    pub system: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Who holds a grant: a user, or a pending invitation (granted when it is accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    User(i64),
    Invitation(i64),
}

/// A role or a single permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantable {
    Role(i64),
    Permission(String),
}

/// One grant, with the names it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Grant {
    pub id: i64,
    pub user_id: Option<i64>,
    pub invitation_id: Option<i64>,
    pub mailbox_id: Option<i64>,
    pub mailbox: Option<String>,
    pub role_id: Option<i64>,
    pub role: Option<String>,
    pub role_system: Option<bool>,
    pub permission: Option<String>,
    pub granted_by: String,
    pub granted_at: i64,
}

/// A member of a role: a user's address, or a pending invitation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Member {
    pub email: String,
    pub invitation: bool,
    pub mailbox: Option<String>,
}

macro_rules! select_roles {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, scope, description, system, created_at, updated_at FROM roles",
            $tail
        )
    };
}

impl Holder {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            Holder::User(id) => (Some(id), None),
            Holder::Invitation(id) => (None, Some(id)),
        }
    }
}

impl Grant {
    /// The role's name or the permission's key, as `usher grant` takes it.
    pub fn what(&self) -> &str {
        self.role
            .as_deref()
            .or(self.permission.as_deref())
            .unwrap_or("?")
    }

    /// "Editor on sales@acme.test", or "users.invite" at account scope.
    pub fn label(&self) -> String {
        match &self.mailbox {
            Some(m) => format!("{} on {m}", self.what()),
            None => self.what().to_owned(),
        }
    }
}

impl Grantable {
    /// What a grant gives.
    pub fn of(g: &Grant) -> Self {
        match (g.role_id, &g.permission) {
            (Some(id), _) => Grantable::Role(id),
            (None, p) => Grantable::Permission(p.clone().unwrap_or_default()),
        }
    }

    fn columns(&self) -> (Option<i64>, Option<&str>) {
        match self {
            Grantable::Role(id) => (Some(*id), None),
            Grantable::Permission(p) => (None, Some(p.as_str())),
        }
    }
}

impl Tx {
    /// Creates the system roles the account lacks; true when it had none (a new account,
    /// or one from before roles), so that the caller can name its first administrator.
    pub async fn ensure_system_roles(&mut self, account_id: i64, now: Timestamp) -> Result<bool> {
        let had: i64 = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE account_id = $1 AND system")
                .bind(account_id)
                .fetch_one(c)
                .await
        })?;
        for r in SYSTEM_ROLES {
            on_tx!(self, |c| {
                sqlx::query(
                    "INSERT INTO roles (account_id, name, name_key, scope, description, system,
                        created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) ON CONFLICT DO NOTHING",
                )
                .bind(account_id)
                .bind(r.name)
                .bind(r.name.to_lowercase())
                .bind(r.scope.as_str())
                .bind(r.description)
                .bind(now.0)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        Ok(had == 0)
    }

    /// Creates the system roles an account lacks; if it had none, its first user (the
    /// administrator `usher init` named) becomes an Administrator.
    pub async fn give_account_its_roles(
        &mut self,
        account_id: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        if !self.ensure_system_roles(account_id, now).await? {
            return Ok(());
        }
        let first = self.first_user(account_id).await?;
        let admin = self.role_by_name(account_id, "Administrator").await?;
        if let (Some(first), Some(admin)) = (first, admin) {
            self.insert_grant(
                account_id,
                Holder::User(first),
                &Grantable::Role(admin.id),
                None,
                by,
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// True when every account has every system role: the store's start-up check.
    pub async fn system_roles_complete(&mut self) -> Result<bool> {
        let missing: i64 = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT COUNT(*) * $1 - (SELECT COUNT(*) FROM roles WHERE system) FROM accounts",
            )
            .bind(SYSTEM_ROLES.len() as i64)
            .fetch_one(c)
            .await
        })?;
        Ok(missing <= 0)
    }

    pub async fn roles(&mut self, account_id: i64) -> Result<Vec<Role>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Role>(select_roles!(
                " WHERE account_id = $1 ORDER BY system DESC, scope, name_key"
            ))
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// A role by name, in any case.
    pub async fn role_by_name(&mut self, account_id: i64, name: &str) -> Result<Option<Role>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, Role>(select_roles!(" WHERE account_id = $1 AND name_key = $2"))
                .bind(account_id)
                .bind(name.trim().to_lowercase())
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }

    /// A custom role's permissions, by key.
    pub async fn role_permissions(&mut self, role_id: i64) -> Result<Vec<String>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY permission",
            )
            .bind(role_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    pub async fn insert_role(
        &mut self,
        account_id: i64,
        name: &str,
        scope: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO roles (account_id, name, name_key, scope, description, system,
                    created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING id",
            )
            .bind(account_id)
            .bind(name)
            .bind(name.to_lowercase())
            .bind(scope)
            .bind(description)
            .bind(now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    pub async fn update_role(
        &mut self,
        id: i64,
        name: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "UPDATE roles SET name = $2, name_key = $3, description = $4, updated_at = $5
                 WHERE id = $1 AND NOT system",
            )
            .bind(id)
            .bind(name)
            .bind(name.to_lowercase())
            .bind(description)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Replaces a custom role's permissions.
    pub async fn set_role_permissions(&mut self, role_id: i64, keys: &[&str]) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
                .bind(role_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        for key in keys {
            on_tx!(self, |c| {
                sqlx::query("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)")
                    .bind(role_id)
                    .bind(key)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Deletes a custom role and every grant of it; returns how many grants went.
    pub async fn delete_role(&mut self, role_id: i64) -> Result<u64> {
        let grants = on_tx!(self, |c| {
            sqlx::query("DELETE FROM grants WHERE role_id = $1")
                .bind(role_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM roles WHERE id = $1 AND NOT system")
                .bind(role_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(grants)
    }

    /// Who holds a role: users, and pending invitations by address.
    pub async fn role_members(&mut self, role_id: i64) -> Result<Vec<Member>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Member>(
                "SELECT COALESCE(u.email_display, i.email_display) AS email,
                        g.invitation_id IS NOT NULL AS invitation, m.address AS mailbox
                 FROM grants g
                 LEFT JOIN users u ON u.id = g.user_id
                 LEFT JOIN invitations i ON i.id = g.invitation_id
                 LEFT JOIN mailboxes m ON m.id = g.mailbox_id
                 WHERE g.role_id = $1 AND (g.user_id IS NOT NULL OR i.status = 'pending')
                 ORDER BY 1, 3",
            )
            .bind(role_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// How many grants name a role (users and invitations alike).
    pub async fn count_role_grants(&mut self, role_id: i64) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM grants WHERE role_id = $1")
                .bind(role_id)
                .fetch_one(c)
                .await
        })?;
        Ok(n)
    }

    /// The users of each type who hold a role (to refuse a permission a guest cannot hold).
    pub async fn role_guest_holders(&mut self, role_id: i64) -> Result<Vec<String>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT u.email_display FROM grants g JOIN users u ON u.id = g.user_id
                 WHERE g.role_id = $1 AND u.user_type = 'guest'
                 UNION
                 SELECT i.email_display FROM grants g JOIN invitations i ON i.id = g.invitation_id
                 WHERE g.role_id = $1 AND i.user_type = 'guest' AND i.status = 'pending'
                 ORDER BY 1",
            )
            .bind(role_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// A holder's grants, account scope first.
    pub async fn grants_of(&mut self, holder: Holder) -> Result<Vec<Grant>> {
        let (user, invitation) = holder.ids();
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, Grant>(
                "SELECT g.id, g.user_id, g.invitation_id, g.mailbox_id,
                    m.address AS mailbox, g.role_id, r.name AS role, r.system AS role_system,
                    g.permission, g.granted_by, g.granted_at
                 FROM grants g
                 LEFT JOIN roles r ON r.id = g.role_id
                 LEFT JOIN mailboxes m ON m.id = g.mailbox_id
                 WHERE g.user_id = $1 OR g.invitation_id = $2
                 ORDER BY m.address IS NOT NULL, m.address, r.name IS NULL, r.name, g.permission",
            )
            .bind(user)
            .bind(invitation)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The permissions of the custom roles a holder has, as (role id, permission).
    pub async fn custom_role_permissions_of(
        &mut self,
        holder: Holder,
    ) -> Result<Vec<(i64, String)>> {
        let (user, invitation) = holder.ids();
        let rows = on_tx!(self, |c| {
            sqlx::query_as(
                "SELECT rp.role_id, rp.permission FROM role_permissions rp
                 WHERE rp.role_id IN (SELECT role_id FROM grants
                    WHERE user_id = $1 OR invitation_id = $2)",
            )
            .bind(user)
            .bind(invitation)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Gives a grant back (an import's undo) if its role and mailbox still exist: one
    /// deleted since is not brought back, and the grant stays gone. False when it was
    /// not given back, or was held already.
    pub async fn restore_grant(
        &mut self,
        account_id: i64,
        user_id: i64,
        what: &Grantable,
        mailbox_id: Option<i64>,
        by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let (role, permission) = what.columns();
        let n = on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO grants (account_id, user_id, mailbox_id, role_id, permission,
                    granted_by, granted_at)
                 SELECT $1, $2, CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS TEXT), $6, $7
                 WHERE (CAST($4 AS BIGINT) IS NULL
                        OR EXISTS (SELECT 1 FROM roles WHERE id = $4 AND account_id = $1))
                   AND (CAST($3 AS BIGINT) IS NULL
                        OR EXISTS (SELECT 1 FROM mailboxes WHERE id = $3 AND account_id = $1))
                 ON CONFLICT DO NOTHING",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(mailbox_id)
            .bind(role)
            .bind(permission)
            .bind(by)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Records a grant; false when the holder already had it.
    pub async fn insert_grant(
        &mut self,
        account_id: i64,
        holder: Holder,
        what: &Grantable,
        mailbox_id: Option<i64>,
        by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let (user, invitation) = holder.ids();
        let (role, permission) = what.columns();
        let n = on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO grants (account_id, user_id, invitation_id, mailbox_id, role_id,
                    permission, granted_by, granted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(account_id)
            .bind(user)
            .bind(invitation)
            .bind(mailbox_id)
            .bind(role)
            .bind(permission)
            .bind(by)
            .bind(now.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Removes a grant; false when the holder did not have it.
    pub async fn delete_grant(
        &mut self,
        holder: Holder,
        what: &Grantable,
        mailbox_id: Option<i64>,
    ) -> Result<bool> {
        let (user, invitation) = holder.ids();
        let (role, permission) = what.columns();
        let n = on_tx!(self, |c| {
            sqlx::query(
                "DELETE FROM grants WHERE COALESCE(user_id, 0) = COALESCE($1, 0)
                    AND COALESCE(invitation_id, 0) = COALESCE($2, 0)
                    AND COALESCE(mailbox_id, 0) = COALESCE($3, 0)
                    AND COALESCE(role_id, 0) = COALESCE($4, 0)
                    AND COALESCE(permission, '') = COALESCE($5, '')",
            )
            .bind(user)
            .bind(invitation)
            .bind(mailbox_id)
            .bind(role)
            .bind(permission)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n >= 1)
    }

    /// Active users who hold a role at account scope (the Administrators, to keep one).
    pub async fn active_holders_of(&mut self, role_id: i64) -> Result<Vec<i64>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_scalar(
                "SELECT u.id FROM grants g JOIN users u ON u.id = g.user_id
                 WHERE g.role_id = $1 AND g.mailbox_id IS NULL AND u.status = 'active'
                 ORDER BY u.id",
            )
            .bind(role_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// The account's first user (the administrator `usher init` created).
    pub async fn first_user(&mut self, account_id: i64) -> Result<Option<i64>> {
        let id = on_tx!(self, |c| {
            sqlx::query_scalar("SELECT MIN(id) FROM users WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(c)
                .await
        })?;
        Ok(id)
    }
}
