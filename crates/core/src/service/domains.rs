//! Domains (docs/rules.md#domains): add, verify by a DNS TXT record or by hand with a
//! reason, activate, deactivate. Corporate users, shared mailboxes and imported users need
//! an address on a verified, active domain.

use serde::Serialize;
use serde_json::json;

use super::{Usher, check_name};
use crate::domain::token::random_hex;
use crate::domain::{Email, Permission};
use crate::error::{Clash, Error, Result};
use crate::store::{Account, Domain, Tx};

/// The TXT record that proves a domain: its name and value.
pub fn verification_record(d: &Domain) -> Option<(String, String)> {
    d.verify_token.as_ref().map(|t| {
        (
            format!("_usher-verification.{}", d.name),
            format!("usher-verification={t}"),
        )
    })
}

/// A domain and, while unverified, the record to publish.
#[derive(Debug, Clone, Serialize)]
pub struct DomainView {
    #[serde(flatten)]
    pub domain: Domain,
    pub txt_name: Option<String>,
    pub txt_value: Option<String>,
    /// The account's users with an address on it.
    pub users: i64,
}

/// How to verify a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// Look the TXT record up in DNS.
    Dns,
    /// The operator vouches for it, with a reason kept in the audit log.
    Manual(String),
}

/// A domain name as typed, checked the way an address's domain is.
fn domain_name(name: &str) -> Result<String> {
    Email::parse(&format!("postmaster@{}", name.trim()))
        .map(|e| e.domain().to_owned())
        .map_err(|e| Error::invalid("domain", e.to_string()))
}

impl Usher {
    pub async fn domains(&self) -> Result<Vec<DomainView>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let mut out = Vec::new();
        for d in tx.domains(account.id).await? {
            out.push(view(&mut tx, &account, d).await?);
        }
        Ok(out)
    }

    /// Adds a domain, unverified and inactive, with the TXT record that will prove it.
    pub async fn add_domain(&self, name: &str) -> Result<DomainView> {
        let now = self.clock.now();
        let name = domain_name(name)?;
        let token = random_hex(16)?;
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageDomains)
            .await?;
        if let Some(d) = tx.domain_by_name(&name).await? {
            let whose = if d.account_id == account.id {
                "this account has it already".to_owned()
            } else {
                "it belongs to another account".to_owned()
            };
            return Err(Error::conflict(Clash::Exists, format!("{name}: {whose}")));
        }
        let id = tx
            .insert_domain(account.id, &name, false, false, now)
            .await?;
        tx.set_domain_token(id, &token).await?;
        self.log_change(&mut tx, "domain.add", &format!("domain:{name}"), json!({}))
            .await?;
        let d = find(&mut tx, &account, &name).await?;
        let v = view(&mut tx, &account, d).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Verifies a domain: by its TXT record (looked up before the transaction, so a slow
    /// resolver holds no lock), or by hand with a reason.
    pub async fn verify_domain(&self, name: &str, how: &Verify) -> Result<DomainView> {
        let name = domain_name(name)?;
        let before = {
            let mut tx = self.store.read().await?;
            let account = self.account_in(&mut tx).await?;
            find(&mut tx, &account, &name).await?
        };
        let (method, reason) = match how {
            Verify::Manual(reason) => {
                let reason = check_name("reason", reason)?;
                if reason.is_empty() {
                    return Err(Error::invalid(
                        "reason",
                        "say why the domain is the organisation's (it is kept in the audit log)",
                    ));
                }
                ("manual", reason)
            }
            Verify::Dns => {
                let (txt_name, want) = verification_record(&before).ok_or_else(|| {
                    Error::conflict(
                        Clash::State,
                        format!("{name} has no verification record to look up"),
                    )
                })?;
                let found = crate::dns::txt(&txt_name, &self.settings.dns_servers).await?;
                if !found.iter().any(|v| v.trim() == want) {
                    let seen = if found.is_empty() {
                        "none".to_owned()
                    } else {
                        found
                            .iter()
                            .map(|v| crate::domain::sanitize::escape_for_display(v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(Error::conflict(
                        Clash::State,
                        format!(
                            "{name} is not verified: publish a TXT record at {txt_name} with the \
                         value {want} (found: {seen}); without public DNS, verify by hand with \
                         a reason"
                        ),
                    ));
                }
                ("dns", format!("TXT {txt_name}"))
            }
        };
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        let op = self
            .require(&mut tx, &account, Permission::ManageDomains)
            .await?;
        let d = find(&mut tx, &account, &name).await?;
        tx.set_domain_verified(d.id, method, &reason, &op.name, now)
            .await?;
        self.log_change(
            &mut tx,
            "domain.verify",
            &format!("domain:{name}"),
            json!({"how": method, "reason": reason}),
        )
        .await?;
        let d = find(&mut tx, &account, &name).await?;
        let v = view(&mut tx, &account, d).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Activates or deactivates a verified domain. Active: its addresses can be used for
    /// corporate users, and the account's users on it count as its corporate users.
    /// Inactive: everyone keeps their roles and permissions, but no new corporate user
    /// can be created on it.
    pub async fn set_domain_active(&self, name: &str, active: bool) -> Result<DomainView> {
        let name = domain_name(name)?;
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageDomains)
            .await?;
        let d = find(&mut tx, &account, &name).await?;
        if active && !d.verified {
            return Err(Error::conflict(
                Clash::State,
                format!(
                    "{name} is not verified yet: verify it first (`usher domains verify {name}`)"
                ),
            ));
        }
        if d.active == active {
            let state = if active { "active" } else { "inactive" };
            return Err(Error::conflict(
                Clash::State,
                format!("{name} is already {state}"),
            ));
        }
        tx.set_domain_active(d.id, active).await?;
        let d = find(&mut tx, &account, &name).await?;
        let v = view(&mut tx, &account, d).await?;
        let action = if active {
            "domain.activate"
        } else {
            "domain.deactivate"
        };
        self.log_change(
            &mut tx,
            action,
            &format!("domain:{name}"),
            json!({"users": v.users}),
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }
}

async fn find(tx: &mut Tx, account: &Account, name: &str) -> Result<Domain> {
    tx.domain_by_name(name)
        .await?
        .filter(|d| d.account_id == account.id)
        .ok_or_else(|| Error::NotFound(format!("domain {name} (`usher domains list` names them)")))
}

async fn view(tx: &mut Tx, account: &Account, domain: Domain) -> Result<DomainView> {
    let record = verification_record(&domain).filter(|_| !domain.verified);
    let users = tx.count_users_on_domain(account.id, &domain.name).await?;
    Ok(DomainView {
        txt_name: record.as_ref().map(|r| r.0.clone()),
        txt_value: record.map(|r| r.1),
        users,
        domain,
    })
}
