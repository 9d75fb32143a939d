//! Self-registration (docs/rules.md#domains): when an account switches it on, someone with
//! an address on one of its verified, active domains asks for an account, proves the
//! address with a mailed link, and becomes an active corporate user of that account. The
//! request answers the same whether or not the address qualifies, so it reveals nothing.

use serde::Serialize;
use serde_json::json;

use super::enrol::split_name;
use super::invite::seats;
use super::mailboxes::personal_mailbox;
use super::{Enrolment, Usher};
use crate::domain::password::hash_password;
use crate::domain::token::hash_token;
use crate::domain::{Email, Timestamp, Token, UserStatus, UserType};
use crate::error::{Clash, Error, Result};
use crate::mail::TemplateName;
use crate::store::{NewRegistration, NewUser, Registration, Tx, User};

/// Registration links one address may be sent per hour.
const LINKS_PER_HOUR: i64 = 3;

/// What the page behind a registration link shows.
#[derive(Debug, Clone)]
pub struct RegisterPage {
    pub org: String,
    pub email: String,
    pub expires: String,
}

#[derive(Serialize)]
struct RegistrationVars<'a> {
    org: &'a str,
    email: &'a str,
    link: String,
    expires: String,
}

impl Usher {
    /// Mails a registration link when the address is on a domain that takes
    /// self-registrations and has no user yet; otherwise does nothing, silently. Only a
    /// malformed address is an error.
    pub async fn request_registration(&self, address: &str) -> Result<()> {
        let email = Email::parse(address)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let Some(account) = tx.account_registering(email.domain()).await? else {
            return Ok(());
        };
        if tx
            .user_by_email(account.id, email.canonical())
            .await?
            .is_some()
            || tx
                .registrations_since(account.id, email.canonical(), now.plus_ms(-3_600_000))
                .await?
                >= LINKS_PER_HOUR
        {
            return Ok(());
        }
        let token = Token::generate()?;
        let expires_at = now.plus_ms(self.settings.registration_link_ms);
        let id = tx
            .insert_registration(&NewRegistration {
                account_id: account.id,
                email: email.canonical(),
                email_display: email.display(),
                token_hash: &token.hash(),
                now,
                expires_at,
            })
            .await?;
        let vars = RegistrationVars {
            org: &account.name,
            email: email.display(),
            link: format!("{}/register/{}", self.settings.public_url, token.plain()),
            expires: expires_at.human(),
        };
        self.queue_notice(
            &mut tx,
            account.id,
            ("", email.display()),
            TemplateName::Registration,
            &vars,
        )
        .await?;
        self.audit_registrant(&mut tx, email.canonical(), "registration.request", id, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the page behind a registration link shows; None for a link that cannot be used.
    pub async fn registration_page(&self, token: &str) -> Result<Option<RegisterPage>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let Some((reg, org)) = open(&mut tx, token, now).await? else {
            return Ok(None);
        };
        Ok(Some(RegisterPage {
            org,
            email: reg.email_display,
            expires: Timestamp(reg.expires_at).human(),
        }))
    }

    /// Creates the registrant's account: an active professional user of the account that
    /// owns the domain, within its licences. The link works once.
    pub async fn complete_registration(&self, token: &str, e: &Enrolment) -> Result<User> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let (reg, _) = open(&mut tx, token, now)
            .await?
            .ok_or(Error::LinkUnusable)?;
        let account = tx
            .account_by_id(reg.account_id)
            .await?
            .ok_or(Error::LinkUnusable)?;
        if tx.user_by_email(account.id, &reg.email).await?.is_some() {
            return Err(Error::conflict(
                Clash::Exists,
                format!("{} is a user of the account already", reg.email_display),
            ));
        }
        let name = super::check_name("display name", &e.display_name)?;
        let parts: Vec<&str> = name.split_whitespace().collect();
        self.check_password(&mut tx, account.id, e.password.expose(), &reg.email, &parts)
            .await?;
        seats(&mut tx, &account, now).await?.check(1)?;
        let phc = hash_password(&e.password)
            .map_err(|err| Error::invalid("password", err.to_string()))?;
        if !tx.use_registration(reg.id, now).await? {
            return Err(Error::LinkUnusable);
        }
        let (first, last) = split_name(&name);
        let id = tx
            .insert_user(&NewUser {
                account_id: account.id,
                email: &reg.email,
                email_display: &reg.email_display,
                first_name: &first,
                last_name: &last,
                unique_ref: None,
                user_type: UserType::Professional,
                status: UserStatus::Active,
                now,
            })
            .await?;
        tx.set_password_hash(id, &phc, false).await?;
        if e.personal_mailbox {
            personal_mailbox(&mut tx, account.id, id, &reg.email, &name, &reg.email, now).await?;
        }
        self.audit_registrant(&mut tx, &reg.email, "registration.complete", reg.id, now)
            .await?;
        let user = tx
            .user_by_id(account.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Switches self-registration on or off for the account (needs `domains.manage`).
    pub async fn set_self_registration(&self, on: bool) -> Result<()> {
        let p = crate::domain::Permission::ManageDomains;
        self.settings_change(
            p,
            "account.self_registration",
            json!({"on": on}),
            |tx, a| Box::pin(async move { tx.set_self_registration(a.id, on).await }),
        )
        .await
    }

    async fn audit_registrant(
        &self,
        tx: &mut Tx,
        email: &str,
        action: &str,
        id: i64,
        now: Timestamp,
    ) -> Result<()> {
        let target = format!("registration:{id} {email}");
        self.audit_as(tx, email, action, &target, json!({}), now)
            .await
    }
}

/// The open registration behind a link, with its account's name, while the account still
/// takes registrations on that domain.
async fn open(tx: &mut Tx, token: &str, now: Timestamp) -> Result<Option<(Registration, String)>> {
    let Some(reg) = tx.open_registration(&hash_token(token), now).await? else {
        return Ok(None);
    };
    let domain = reg.email.rsplit('@').next().unwrap_or_default().to_owned();
    Ok(tx
        .account_registering(&domain)
        .await?
        .filter(|a| a.id == reg.account_id)
        .map(|a| (reg, a.name)))
}
