//! Corporate users created directly, without an invitation (docs/rules.md#domains): only
//! with an address on one of the account's verified, active domains.

use serde_json::json;

use super::invite::seats;
use super::mailboxes::personal_mailbox;
use super::{Usher, check_name};
use crate::domain::{Email, InvitationStatus, Permission, UserStatus, UserType};
use crate::error::{Clash, Error, Result};
use crate::store::{Account, NewUser, Tx, User};

#[derive(Debug, Clone)]
pub struct NewCorporateUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub personal_mailbox: bool,
    pub timezone: String,
    pub phone: String,
}

/// Refuses an address that is not on a verified, active domain of the account, saying
/// which of the three it lacks.
pub(super) async fn check_corporate_domain(
    tx: &mut Tx,
    account: &Account,
    email: &Email,
) -> Result<()> {
    let domain = email.domain();
    let why = match tx.domain_by_name(domain).await? {
        Some(d) if d.account_id == account.id && d.verified && d.active => return Ok(()),
        Some(d) if d.account_id != account.id => "belongs to another account",
        Some(d) if !d.verified => "is not verified",
        Some(_) => "is not active",
        None => "is not one of the account's domains",
    };
    Err(Error::Forbidden(format!(
        "{} cannot be a corporate user: {domain} {why} (corporate users need an address on \
         a verified, active domain)",
        email.display()
    )))
}

fn check_phone(phone: &str) -> Result<String> {
    let p = phone.trim();
    let ok = p.chars().count() <= 32
        && p.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if ok {
        Ok(p.to_owned())
    } else {
        Err(Error::invalid(
            "phone",
            "digits, spaces and + - ( ) . only, at most 32 characters",
        ))
    }
}

impl Usher {
    /// Creates an active corporate user, with a personal mailbox they own if asked.
    pub async fn create_user(&self, req: &NewCorporateUser) -> Result<User> {
        let now = self.clock.now();
        let email = Email::parse(&req.email)?;
        let first = check_name("first name", &req.first_name)?;
        let last = check_name("last name", &req.last_name)?;
        let timezone = check_name("timezone", &req.timezone)?;
        let phone = check_phone(&req.phone)?;
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        let op = self
            .require(&mut tx, &account, Permission::CreateUsers)
            .await?;
        tx.lock_account(account.id).await?;
        check_corporate_domain(&mut tx, &account, &email).await?;
        if tx
            .user_by_email(account.id, email.canonical())
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!("{} is a user of the account already", email.display()),
            ));
        }
        if let Some(i) = tx
            .invitation_for_email(account.id, email.canonical(), now)
            .await?
            .filter(|i| i.status == InvitationStatus::Pending)
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!(
                    "{} has a pending invitation (id {}): revoke it first, or let it be accepted",
                    email.display(),
                    i.id
                ),
            ));
        }
        if req.user_type == UserType::Professional {
            seats(&mut tx, &account, now).await?.check(1)?;
        }
        let id = tx
            .insert_user(&NewUser {
                account_id: account.id,
                email: email.canonical(),
                email_display: email.display(),
                first_name: &first,
                last_name: &last,
                unique_ref: None,
                user_type: req.user_type,
                status: UserStatus::Active,
                now,
            })
            .await?;
        if !timezone.is_empty() || !phone.is_empty() {
            tx.set_user_profile(id, &timezone, &phone).await?;
        }
        let mut mailbox = None;
        if req.personal_mailbox {
            let name = format!("{first} {last}").trim().to_owned();
            let m = personal_mailbox(
                &mut tx,
                account.id,
                id,
                email.canonical(),
                &name,
                &op.name,
                now,
            )
            .await?;
            mailbox = Some(m.address);
        }
        self.log_change(
            &mut tx,
            "user.create",
            &format!("user:{id} {}", email.canonical()),
            json!({"corporate": true, "user_type": req.user_type, "personal_mailbox": mailbox}),
        )
        .await?;
        let user = tx
            .user_by_id(account.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
        tx.commit().await?;
        Ok(user)
    }
}
