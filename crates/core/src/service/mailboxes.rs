//! Shared mailboxes, and a personal mailbox for a user on request (docs/rules.md#roles).
//! Roles and permissions per mailbox are granted with `grant ... --mailbox`.

use serde_json::json;

use super::{Target, Usher, check_name, parse_one};
use crate::domain::{Permission, Timestamp};
use crate::error::{Clash, Error, Result};
use crate::store::{Grantable, Holder, Mailbox, Tx};

impl Usher {
    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        tx.mailboxes(account.id).await
    }

    /// A shared mailbox at `address`, on one of the account's domains.
    pub async fn create_shared_mailbox(&self, address: &str, name: &str) -> Result<Mailbox> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageMailboxes)
            .await?;
        let email = parse_one(address)?;
        let name = check_name("name", name)?;
        let domains = tx.domain_names(account.id).await?;
        if !domains.iter().any(|d| d == email.domain()) {
            return Err(Error::invalid(
                "address",
                format!(
                    "{} is not on the account's domains ({})",
                    email.display(),
                    domains.join(", ")
                ),
            ));
        }
        if tx
            .user_by_email(account.id, email.canonical())
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!(
                    "{} is a user's address; `usher mailboxes personal` gives a user their own mailbox",
                    email.display()
                ),
            ));
        }
        let m = new_mailbox(&mut tx, account.id, email.canonical(), &name, None, now).await?;
        self.log_change(
            &mut tx,
            "mailbox.create",
            &format!("mailbox:{} {}", m.id, m.address),
            json!({"kind": "shared", "name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// A user's personal mailbox, at their own address, with the Owner role on it.
    pub async fn create_personal_mailbox(&self, user: &Target) -> Result<Mailbox> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        let op = self
            .require(&mut tx, &account, Permission::ManageMailboxes)
            .await?;
        let u = self.find_user(&mut tx, &account, user).await?;
        let name = format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_owned();
        let m = personal_mailbox(&mut tx, account.id, u.id, &u.email, &name, &op.name, now).await?;
        self.log_change(
            &mut tx,
            "mailbox.create",
            &format!("mailbox:{} {}", m.id, m.address),
            json!({"kind": "personal", "owner": u.email}),
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }
}

/// A user's personal mailbox at their address, with the Owner role on it for them.
pub(super) async fn personal_mailbox(
    tx: &mut Tx,
    account_id: i64,
    user_id: i64,
    address: &str,
    name: &str,
    by: &str,
    now: Timestamp,
) -> Result<Mailbox> {
    let m = new_mailbox(tx, account_id, address, name, Some(user_id), now).await?;
    let owner = tx
        .role_by_name(account_id, "Owner")
        .await?
        .ok_or_else(|| Error::NotFound("the system role Owner".into()))?;
    tx.insert_grant(
        account_id,
        Holder::User(user_id),
        &Grantable::Role(owner.id),
        Some(m.id),
        by,
        now,
    )
    .await?;
    Ok(m)
}

/// A new mailbox at `address`, refused if one is there already.
async fn new_mailbox(
    tx: &mut Tx,
    account_id: i64,
    address: &str,
    name: &str,
    owner: Option<i64>,
    now: Timestamp,
) -> Result<Mailbox> {
    if tx.mailbox_by_address(account_id, address).await?.is_some() {
        return Err(Error::conflict(
            Clash::Exists,
            format!("the mailbox {address} exists already"),
        ));
    }
    tx.insert_mailbox(account_id, address, name, owner, now)
        .await?;
    tx.mailbox_by_address(account_id, address)
        .await?
        .ok_or_else(|| Error::NotFound(format!("mailbox {address}")))
}
