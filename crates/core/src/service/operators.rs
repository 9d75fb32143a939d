//! Operators (docs/operators.md): which authenticated identity (a host login, a
//! PostgreSQL role) acts as which user of the account. Only the database's owner and
//! Administrators change the links.

use serde_json::json;

use super::Usher;
use crate::domain::{Email, Permission, Secret, UserStatus};
use crate::error::{Error, Result};
use crate::store::{Account, Holder, OperatorLink, Tx};

/// An identity as typed: `os:LOGIN` or `db:ROLE`, with a name a login or a role may have.
pub fn identity_name(text: &str) -> Result<String> {
    let bad = || {
        Error::invalid(
            "identity",
            format!(
                "'{}' is not os:LOGIN or db:ROLE (letters, digits, '_', '.', '-'; starting with \
                 a letter or '_'; at most 63)",
                crate::domain::sanitize::escape_for_display(text)
            ),
        )
    };
    let (kind, name) = text.trim().split_once(':').ok_or_else(bad)?;
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if !matches!(kind, "os" | "db") || !first_ok || !rest_ok || name.len() > 63 {
        return Err(bad());
    }
    Ok(format!("{kind}:{name}"))
}

impl Usher {
    /// Refuses anyone but the owner and the account's Administrators.
    pub(super) async fn require_administrator(&self, tx: &mut Tx, account: &Account) -> Result<()> {
        let op = self.operator_in(tx, account).await?;
        if op.owner && op.user_id.is_none() {
            return Ok(());
        }
        let admin = match op.user_id {
            Some(id) => tx.grants_of(Holder::User(id)).await?.iter().any(|g| {
                g.mailbox_id.is_none()
                    && g.role_system == Some(true)
                    && g.role.as_deref() == Some("Administrator")
            }),
            None => false,
        };
        if admin {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} may not change who the operators are: only an Administrator may",
                op.name
            )))
        }
    }

    /// Links an identity to an active user of the account, replacing its earlier link.
    pub async fn link_operator(&self, identity: &str, address: &str) -> Result<OperatorLink> {
        self.link_as(identity_name(identity)?, address, None).await
    }

    /// Makes a PostgreSQL login role for an operator (or takes an existing one), in the
    /// operators' group, with a password if one is given, and links it to an active user.
    pub async fn add_db_operator(
        &self,
        address: &str,
        role: &str,
        password: Option<&Secret>,
    ) -> Result<OperatorLink> {
        let identity = identity_name(&format!("db:{role}"))?;
        if identity.contains(['.', '-']) {
            return Err(Error::invalid(
                "--db-role",
                "a role usher makes is lower-case letters, digits and '_'",
            ));
        }
        self.link_as(identity, address, Some(password)).await
    }

    /// Links `identity` to the user at `address`; with `role`, through the database's
    /// function that makes the login role too (its password, if any, given).
    async fn link_as(
        &self,
        identity: String,
        address: &str,
        role: Option<Option<&Secret>>,
    ) -> Result<OperatorLink> {
        let email = Email::parse(address).map_err(|e| Error::invalid("address", e.to_string()))?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require_administrator(&mut tx, &account).await?;
        let user = tx
            .user_by_email(account.id, email.canonical())
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "{} is not an active user of the account",
                    email.display()
                ))
            })?;
        let by = &self.actor.name;
        let (action, details) = match role {
            None => {
                tx.link_operator(&identity, account.id, user.id, by, now)
                    .await?;
                ("operator.link", json!({"user": user.email}))
            }
            Some(password) => {
                let name = identity.trim_start_matches("db:");
                tx.add_db_operator(name, password, account.id, user.id, by, now)
                    .await?;
                (
                    "operator.add",
                    json!({"user": user.email, "password": password.is_some()}),
                )
            }
        };
        self.log_change(&mut tx, action, &format!("operator:{identity}"), details)
            .await?;
        let link = tx
            .operator_link(&identity)
            .await?
            .ok_or_else(|| Error::NotFound(identity.clone()))?;
        tx.commit().await?;
        Ok(link)
    }

    /// The account's operators (needs `reports.view`).
    pub async fn operators(&self) -> Result<Vec<OperatorLink>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        tx.operator_links(account.id).await
    }

    /// Removes the links of an identity, or of every identity linked to an address.
    /// Returns the identities unlinked.
    pub async fn remove_operator(&self, who: &str) -> Result<Vec<String>> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require_administrator(&mut tx, &account).await?;
        let links = tx.operator_links(account.id).await?;
        let wanted: Vec<String> = match identity_name(who) {
            Ok(id) => links
                .into_iter()
                .filter(|l| l.identity == id)
                .map(|l| l.identity)
                .collect(),
            Err(_) => {
                let email = Email::parse(who).map_err(|_| {
                    Error::invalid(
                        "operator",
                        format!("'{who}' is not an identity or an address"),
                    )
                })?;
                links
                    .into_iter()
                    .filter(|l| l.email == email.canonical())
                    .map(|l| l.identity)
                    .collect()
            }
        };
        if wanted.is_empty() {
            return Err(Error::NotFound(format!("no operator {who} in the account")));
        }
        for id in &wanted {
            tx.remove_operator_link(id).await?;
            self.log_change(
                &mut tx,
                "operator.remove",
                &format!("operator:{id}"),
                json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(wanted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn identities_are_logins_or_roles() {
        assert_eq!(identity_name("os:ann").unwrap(), "os:ann");
        assert_eq!(identity_name(" db:help_desk.1 ").unwrap(), "db:help_desk.1");
        for bad in [
            "ann",
            "os:",
            "os:Ann",
            "os:1ann",
            "xx:ann",
            "os:a b",
            "os:ann\u{1b}",
        ] {
            assert!(identity_name(bad).is_err(), "{bad}");
        }
    }
}
