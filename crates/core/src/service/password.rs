//! Passwords users manage themselves (docs/mailserver.md): a reset link asked for on the
//! "forgot password" page or sent by an operator, and a change with the current
//! password. Administrators never set or see a password. A new password takes effect at
//! the mail server's next login, and closes every reset link still open.

use serde::Serialize;
use serde_json::json;

use super::{Target, Usher};
use crate::config::Secret;
use crate::domain::password::{hash_password, verify_password};
use crate::domain::token::hash_token;
use crate::domain::{Email, Permission, Timestamp, Token};
use crate::error::{Error, Result};
use crate::mail::TemplateName;
use crate::store::{NewPasswordReset, PasswordReset, Tx, User};

/// How long a reset link works: an hour, as a password is worth more than an invitation.
pub const RESET_LINK_MS: i64 = 3_600_000;
/// How long the link to a new account's first password works: a week, as a new starter
/// may not read mail the day their account is made.
pub const WELCOME_LINK_MS: i64 = 7 * 86_400_000;
/// Reset links one user may be sent per hour, whoever asks.
const LINKS_PER_HOUR: i64 = 3;

/// A hash to check against when the address has none.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&Secret::new("usher-no-such-user")).unwrap_or_default())
}

/// What the page behind a reset link shows.
#[derive(Debug, Clone)]
pub struct ResetPage {
    pub org: String,
    pub email: String,
    pub expires: String,
}

#[derive(Serialize)]
struct ResetVars<'a> {
    org: &'a str,
    first_name: &'a str,
    email: &'a str,
    link: String,
    expires: String,
    requested_by: &'a str,
    /// A new account's first password (a sync's direct creation), not a reset.
    welcome: bool,
}

/// A new account's first-password link, as its mail needs it.
pub(in crate::service) struct Welcome<'a> {
    pub org: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub token: &'a Token,
    pub expires_at: Timestamp,
    /// Who made the account (the operator; a sync runs as one).
    pub by: &'a str,
}

/// A message ready to queue.
pub(in crate::service) struct Queued {
    pub message_id: String,
    pub env_from: String,
    pub env_to: String,
    pub subject: String,
    pub raw: Vec<u8>,
}

impl Usher {
    /// The mail of a new account's link to choose its password, rendered from the
    /// account's `password_reset` template in its welcome form.
    pub(in crate::service) fn welcome_mail(
        &self,
        templates: &crate::mail::Templates,
        w: &Welcome<'_>,
    ) -> Result<Queued> {
        let vars = ResetVars {
            org: w.org,
            first_name: w.first_name,
            email: w.email,
            link: format!(
                "{}/password/reset/{}",
                self.settings.public_url,
                w.token.plain()
            ),
            expires: w.expires_at.human(),
            requested_by: w.by,
            welcome: true,
        };
        let r = templates.render(TemplateName::PasswordReset, &vars)?;
        let name = format!("{} {}", w.first_name, w.last_name);
        let m = crate::mail::compose::compose_rendered(
            &self.settings.from,
            name.trim(),
            w.email,
            &r,
            self.clock.now(),
            crate::mail::compose::new_message_id(&self.settings.from)?,
        )?;
        Ok(Queued {
            env_to: m.env_to.join(","),
            message_id: m.message_id,
            env_from: m.env_from,
            subject: m.subject,
            raw: m.raw,
        })
    }

    /// The "forgot password" page's request: a link to each active user with this
    /// address, within the hourly limit; for any other address nothing, silently, so the
    /// answer reveals nothing. Only a malformed address is an error.
    pub async fn request_password_reset(&self, address: &str) -> Result<()> {
        let email = Email::parse(address)?;
        let mut tx = self.store.write().await?;
        let mut sent = false;
        for (user_id, account_id) in tx.active_users_by_email(email.canonical()).await? {
            sent |= self
                .mail_reset_link(&mut tx, account_id, user_id, "self")
                .await?;
        }
        if sent {
            tx.commit().await?;
        }
        Ok(())
    }

    /// An operator sends a user a reset link (needs `users.manage`). Unlike the page, it
    /// says when the user cannot be sent one.
    pub async fn send_password_reset(&self, target: &Target) -> Result<User> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        let op = self
            .require(&mut tx, &account, Permission::ManageUsers)
            .await?;
        let user = self.find_user(&mut tx, &account, target).await?;
        if user.status != crate::domain::UserStatus::Active {
            return Err(Error::conflict(
                crate::Clash::State,
                format!(
                    "{} is suspended: reactivate them before they choose a password",
                    user.email_display
                ),
            ));
        }
        if !self
            .mail_reset_link(&mut tx, account.id, user.id, &op.name)
            .await?
        {
            return Err(Error::conflict(
                crate::Clash::State,
                format!(
                    "{} was sent {LINKS_PER_HOUR} reset links in the last hour; the newest still works",
                    user.email_display
                ),
            ));
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Queues a reset link for the user and audits it; false (nothing queued) when the
    /// hourly limit is reached.
    async fn mail_reset_link(
        &self,
        tx: &mut Tx,
        account_id: i64,
        user_id: i64,
        requested_by: &str,
    ) -> Result<bool> {
        let now = self.clock.now();
        if tx
            .password_resets_since(user_id, now.plus_ms(-3_600_000))
            .await?
            >= LINKS_PER_HOUR
        {
            return Ok(false);
        }
        let (Some(account), Some(user)) = (
            tx.account_by_id(account_id).await?,
            tx.user_by_id(account_id, user_id).await?,
        ) else {
            return Ok(false);
        };
        let token = Token::generate()?;
        let expires_at = now.plus_ms(RESET_LINK_MS);
        let id = tx
            .insert_password_reset(&NewPasswordReset {
                account_id,
                user_id,
                token_hash: &token.hash(),
                requested_by,
                now,
                expires_at,
            })
            .await?;
        let vars = ResetVars {
            org: &account.name,
            first_name: &user.first_name,
            email: &user.email_display,
            link: format!(
                "{}/password/reset/{}",
                self.settings.public_url,
                token.plain()
            ),
            expires: expires_at.human(),
            requested_by,
            welcome: false,
        };
        let name = format!("{} {}", user.first_name, user.last_name);
        self.queue_notice(
            tx,
            account_id,
            (name.trim(), &user.email_display),
            TemplateName::PasswordReset,
            &vars,
        )
        .await?;
        let who = if requested_by == "self" {
            user.email.as_str()
        } else {
            requested_by
        };
        self.audit_as(
            tx,
            who,
            "user.password_reset_link",
            &format!("user:{} {}", user.id, user.email),
            json!({"reset": id, "requested_by": requested_by}),
            now,
        )
        .await?;
        Ok(true)
    }

    /// What the page behind a reset link shows; None for a link that cannot be used.
    pub async fn password_reset_page(&self, token: &str) -> Result<Option<ResetPage>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let Some(r) = tx.open_password_reset(&hash_token(token), now).await? else {
            return Ok(None);
        };
        let org = tx
            .account_by_id(r.account_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        Ok(Some(ResetPage {
            org,
            email: r.email_display,
            expires: Timestamp(r.expires_at).human(),
        }))
    }

    /// Sets the password chosen behind a reset link. The link works once; the old
    /// password stops working at once.
    pub async fn reset_password(&self, token: &str, password: &Secret) -> Result<User> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let r = tx
            .open_password_reset(&hash_token(token), now)
            .await?
            .ok_or(Error::LinkUnusable)?;
        self.check_password(
            &mut tx,
            r.account_id,
            password.expose(),
            &r.email,
            &[&r.first_name, &r.last_name],
        )
        .await?;
        if !tx.use_password_reset(r.id, now).await? {
            return Err(Error::LinkUnusable);
        }
        self.set_password(&mut tx, &r, password, "reset link", now)
            .await?;
        let user = tx
            .user_by_id(r.account_id, r.user_id)
            .await?
            .ok_or(Error::LinkUnusable)?;
        tx.commit().await?;
        self.after_change("user.password", std::slice::from_ref(&user.email))
            .await;
        Ok(user)
    }

    /// Changes a password given the current one. A wrong address or password gets one
    /// answer, so the form reveals nothing of who exists.
    pub async fn change_password(
        &self,
        address: &str,
        current: &Secret,
        password: &Secret,
    ) -> Result<User> {
        let wrong = || Error::invalid("current password", "or the address is wrong".to_owned());
        let email = Email::parse(address).map_err(|_| wrong())?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let holders = tx.password_holders(email.canonical()).await?;
        if holders.is_empty() {
            // As long as a real check, so the answer's time says nothing either.
            verify_password(current.expose(), dummy_hash());
        }
        let Some((user_id, account_id, _)) = holders
            .iter()
            .find(|(_, _, phc)| verify_password(current.expose(), phc))
        else {
            return Err(wrong());
        };
        let user = tx
            .user_by_id(*account_id, *user_id)
            .await?
            .ok_or_else(wrong)?;
        if current.expose() == password.expose() {
            return Err(Error::invalid(
                "password",
                "is the one in use: choose a new one".to_owned(),
            ));
        }
        self.check_password(
            &mut tx,
            user.account_id,
            password.expose(),
            &user.email,
            &[&user.first_name, &user.last_name],
        )
        .await?;
        let r = PasswordReset {
            id: 0,
            account_id: user.account_id,
            user_id: user.id,
            email: user.email.clone(),
            email_display: user.email_display.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            expires_at: now.0,
        };
        self.set_password(&mut tx, &r, password, "changed", now)
            .await?;
        tx.commit().await?;
        self.after_change("user.password", std::slice::from_ref(&user.email))
            .await;
        Ok(user)
    }

    /// The new hash for every row of the address, its open links closed, and the audit
    /// row in the user's own name.
    async fn set_password(
        &self,
        tx: &mut Tx,
        r: &PasswordReset,
        password: &Secret,
        how: &str,
        now: Timestamp,
    ) -> Result<()> {
        let phc = hash_password(password).map_err(|e| Error::invalid("password", e.to_string()))?;
        tx.set_password_for_email(&r.email, &phc).await?;
        let closed = tx.close_password_resets(&r.email, now).await?;
        self.audit_as(
            tx,
            &r.email,
            "user.password",
            &format!("user:{} {}", r.user_id, r.email),
            json!({"how": how, "links_closed": closed}),
            now,
        )
        .await
    }
}
