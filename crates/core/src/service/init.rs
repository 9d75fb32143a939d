//! `usher init`: the account, its first domain and its first admin.

use serde_json::json;

use super::{Usher, check_name};
use crate::domain::{Email, UserStatus, UserType};
use crate::error::{Error, Result};
use crate::store::{Account, NewAccount, NewAudit, NewUser};

#[derive(Debug, Clone)]
pub struct InitRequest {
    pub org: String,
    pub domain: String,
    pub licences: i64,
    pub admin: String,
    pub validity_days: i64,
}

impl Usher {
    pub async fn init(&self, req: &InitRequest) -> Result<Account> {
        let org = check_name("--org", &req.org)?;
        if org.is_empty() {
            return Err(Error::invalid("--org", "the organisation needs a name"));
        }
        if req.licences < 0 {
            return Err(Error::invalid("--licences", "cannot be negative"));
        }
        if !crate::domain::VALIDITY_DAYS.contains(&req.validity_days) {
            return Err(Error::invalid(
                "--validity-days",
                format!("must be {}", crate::domain::validity_days_said()),
            ));
        }
        let admin = Email::parse(&req.admin)?;
        // A domain is checked as the domain part of an address would be.
        let domain = Email::parse(&format!("postmaster@{}", req.domain.trim()))
            .map_err(|e| Error::invalid("--domain", e.to_string()))?
            .domain()
            .to_owned();
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        if let Some(existing) = tx.accounts().await?.first() {
            return Err(Error::AlreadyInitialised(existing.name.clone()));
        }
        let account = tx
            .insert_account(&NewAccount {
                name: &org,
                licences: req.licences,
                invite_validity_days: req.validity_days,
                now,
            })
            .await?;
        // The domain named at init is the organisation's own: recorded as verified by the
        // operator who ran init (DNS verification comes with domain management).
        let domain_id = tx
            .insert_domain(account.id, &domain, true, true, now)
            .await?;
        tx.set_domain_verified(domain_id, "init", "declared at init", &self.actor.name, now)
            .await?;
        let admin_id = tx
            .insert_user(&NewUser {
                account_id: account.id,
                email: admin.canonical(),
                email_display: admin.display(),
                first_name: "",
                last_name: "",
                unique_ref: None,
                user_type: UserType::Professional,
                status: UserStatus::Active,
                now,
            })
            .await?;
        // The account's system roles; its first user, this admin, is an Administrator.
        tx.give_account_its_roles(account.id, &self.actor.name, now)
            .await?;
        for (action, target, details) in [
            (
                "account.init",
                format!("account:{}", account.id),
                json!({"name": org, "licences": req.licences, "validity_days": req.validity_days}),
            ),
            (
                "domain.add",
                format!("domain:{domain}"),
                json!({"verified": true, "active": true, "reason": "declared at init"}),
            ),
            (
                "user.create",
                format!("user:{admin_id} {}", admin.canonical()),
                json!({"role": "administrator", "user_type": "professional"}),
            ),
        ] {
            tx.append_audit(&NewAudit {
                at: now,
                actor: &self.actor,
                action,
                target: &target,
                details,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(account)
    }
}
