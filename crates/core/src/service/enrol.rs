//! Following an invitation's link (docs/rules.md#enrolment): the invitee creates their
//! account, or, when already registered on the platform (a user of another account here),
//! signs in to accept; or declines. The link's token is consumed once, inside the
//! transaction that acts on it, so fifty submissions of one link make one account. The
//! inviter is told by mail either way.

use serde_json::json;

use super::Usher;
use super::mailboxes::personal_mailbox;
use super::notify::Answer;
use crate::config::Secret;
use crate::domain::password::{Context, hash_password, verify_password, weakness};
use crate::domain::token::hash_token;
use crate::domain::{Actor, InvitationStatus, Timestamp, UserStatus};
use crate::error::{Clash, Error, Result};
use crate::store::{Invitation, NewAudit, NewUser, Tx, User};

/// Shortest password accepted at enrolment (OWASP ASVS: at least 12 characters).
pub const MIN_PASSWORD: usize = 12;
/// Longest; well above the 64 OWASP asks to allow, short enough to bound argon2's input.
pub const MAX_PASSWORD: usize = 1024;

/// What the enrolment page's form submits. For someone already registered, the password
/// is their existing one (they sign in to accept) and the display name is not used.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub display_name: String,
    pub password: Secret,
    pub personal_mailbox: bool,
}

/// What the enrolment page shows for a usable link.
#[derive(Debug, Clone)]
pub struct EnrolPage {
    pub org: String,
    pub email: String,
    /// Pre-filled from the invitation.
    pub display_name: String,
    /// The address already has an account on the platform: accept or decline, no new password.
    pub registered: bool,
    pub expires: String,
}

/// Refuses a password that is too short, too long, or the address itself.
pub fn check_new_password(password: &str, email: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(Error::invalid(
            "password",
            format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::invalid("password", "contains control characters"));
    }
    // An invisible or direction-changing character cannot be typed again at a login
    // prompt with any certainty, and may hide what the password really is.
    if let Some(c) = password
        .chars()
        .find(|c| crate::domain::sanitize::is_unsafe_char(*c) || *c == '\u{200C}')
    {
        return Err(Error::invalid(
            "password",
            format!(
                "contains an invisible or direction-changing character (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(Error::invalid("password", "must not be your address"));
    }
    Ok(())
}

/// The invitation behind a link if it can still be answered (its status is computed at
/// `now`, so an expired one is not pending).
pub(super) async fn pending_for_token(
    tx: &mut Tx,
    token: &str,
    now: Timestamp,
) -> Result<Option<Invitation>> {
    Ok(tx
        .invitation_by_token_hash(&hash_token(token), now)
        .await?
        .filter(|i| i.status == InvitationStatus::Pending))
}

/// The pending invitation behind a link, or the one refusal for every other case.
async fn pending(tx: &mut Tx, token: &str, now: Timestamp) -> Result<Invitation> {
    pending_for_token(tx, token, now)
        .await?
        .ok_or(Error::LinkUnusable)
}

/// "Ann Lee" as first and last name (the last word is the last name).
pub(super) fn split_name(name: &str) -> (String, String) {
    match name.rsplit_once(' ') {
        Some((f, l)) => (f.trim().to_owned(), l.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

impl Usher {
    /// Refuses a password that breaks the length rules or is easy to guess for this person
    /// in this organisation (its name and domains are what a guesser tries first).
    pub(super) async fn check_password(
        &self,
        tx: &mut Tx,
        account_id: i64,
        password: &str,
        email: &str,
        names: &[&str],
    ) -> Result<()> {
        check_new_password(password, email)?;
        let local = email.split('@').next().unwrap_or_default();
        let full = names.join(" ");
        let mut personal: Vec<&str> = vec![email, local, &full];
        personal.extend(names.iter().filter(|n| !n.is_empty()));
        let account = tx.account_by_id(account_id).await?;
        let domains = tx.domains(account_id).await?;
        let mut organisation: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        organisation.extend(account.as_ref().map(|a| a.name.as_str()));
        let context = Context {
            personal: &personal,
            organisation: &organisation,
        };
        match weakness(password, context, &self.settings.banned_passwords) {
            Some(why) => Err(Error::invalid("password", why)),
            None => Ok(()),
        }
    }

    /// What the enrolment page shows, or None for a link that cannot be used (one answer
    /// for every reason, so a link reveals nothing).
    pub async fn enrol_page(&self, token: &str) -> Result<Option<EnrolPage>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let Some(inv) = pending_for_token(&mut tx, token, now).await? else {
            return Ok(None);
        };
        let org = tx
            .account_by_id(inv.account_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let registered = tx.registered_identity(&inv.email).await?.is_some();
        Ok(Some(EnrolPage {
            org,
            display_name: format!("{} {}", inv.first_name, inv.last_name)
                .trim()
                .to_owned(),
            email: inv.email_display,
            registered,
            expires: Timestamp(inv.expires_at).human(),
        }))
    }

    /// The password hash and name the new account gets: an already registered person's
    /// own, proved by their current password; else the chosen password, checked and hashed.
    async fn enrolment_password(
        &self,
        tx: &mut Tx,
        inv: &Invitation,
        e: &Enrolment,
    ) -> Result<(String, String)> {
        if let Some((phc, first, last)) = tx.registered_identity(&inv.email).await? {
            if !verify_password(e.password.expose(), &phc) {
                return Err(Error::invalid(
                    "password",
                    "is not the password of your existing account",
                ));
            }
            return Ok((phc, format!("{first} {last}").trim().to_owned()));
        }
        let name = super::check_name("display name", &e.display_name)?;
        let parts: Vec<&str> = name.split_whitespace().collect();
        self.check_password(tx, inv.account_id, e.password.expose(), &inv.email, &parts)
            .await?;
        // Hashing takes a moment by design; the write lock is held, but one enrolment at a
        // time is what the account can bear anyway.
        let phc = hash_password(&e.password)
            .map_err(|err| Error::invalid("password", err.to_string()))?;
        Ok((phc, name))
    }

    /// Creates the invitee's account, active, with the invitation's grants and, if asked,
    /// a personal mailbox; the invitation becomes accepted and the inviter is told. Whole
    /// or not at all. Someone already registered proves it with their current password,
    /// and keeps it and their name.
    pub async fn accept_invitation(&self, token: &str, e: &Enrolment) -> Result<User> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let inv = pending(&mut tx, token, now).await?;
        let (phc, name) = self.enrolment_password(&mut tx, &inv, e).await?;
        if !tx.answer_invitation(inv.id, true, now).await? {
            return Err(Error::LinkUnusable);
        }
        if tx
            .user_by_email(inv.account_id, &inv.email)
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                Clash::Exists,
                format!("{} is a user of the account already", inv.email_display),
            ));
        }
        let (first, last) = split_name(&name);
        // The import's reference for the person goes with them, unless someone took it
        // meanwhile (it is unique in the account).
        let unique_ref = match inv.unique_ref.as_deref() {
            Some(r) if !tx.unique_ref_taken(inv.account_id, r).await? => Some(r),
            _ => None,
        };
        let id = tx
            .insert_user(&NewUser {
                account_id: inv.account_id,
                email: &inv.email,
                email_display: &inv.email_display,
                first_name: &first,
                last_name: &last,
                unique_ref,
                user_type: inv.user_type,
                status: UserStatus::Active,
                now,
            })
            .await?;
        tx.set_password_hash(id, &phc, false).await?;
        let grants = tx.move_invitation_grants(inv.id, id).await?;
        if e.personal_mailbox {
            personal_mailbox(
                &mut tx,
                inv.account_id,
                id,
                &inv.email,
                &name,
                &inv.email,
                now,
            )
            .await?;
        }
        let answer = Answer {
            accepted: true,
            grants: usize::try_from(grants).unwrap_or(usize::MAX),
            mailbox: e.personal_mailbox,
        };
        let told = self.answered(&mut tx, &inv, answer, now).await?;
        self.audit_as_invitee(
            &mut tx,
            &inv,
            "invitation.accept",
            json!({"user": id, "grants": grants, "personal_mailbox": e.personal_mailbox,
                   "notified": told}),
            now,
        )
        .await?;
        let user = tx
            .user_by_id(inv.account_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Declines: the invitation is closed, its promised grants go with it, and the inviter
    /// is told.
    pub async fn decline_invitation(&self, token: &str) -> Result<Invitation> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let inv = pending(&mut tx, token, now).await?;
        if !tx.answer_invitation(inv.id, false, now).await? {
            return Err(Error::LinkUnusable);
        }
        let answer = Answer {
            accepted: false,
            grants: 0,
            mailbox: false,
        };
        let told = self.answered(&mut tx, &inv, answer, now).await?;
        self.audit_as_invitee(
            &mut tx,
            &inv,
            "invitation.decline",
            json!({"notified": told}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(inv)
    }

    /// The inviter's notice, in the answering transaction.
    async fn answered(
        &self,
        tx: &mut Tx,
        inv: &Invitation,
        answer: Answer,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let org = tx
            .account_by_id(inv.account_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        self.notify_inviter(tx, inv, &org, answer, now).await
    }

    async fn audit_as_invitee(
        &self,
        tx: &mut Tx,
        inv: &Invitation,
        action: &str,
        details: serde_json::Value,
        now: Timestamp,
    ) -> Result<()> {
        let target = format!("invitation:{} {}", inv.id, inv.email);
        self.audit_as(tx, &inv.email, action, &target, details, now)
            .await
    }

    /// Someone following a link acts, not an admin: the audit row names them by address,
    /// with the client address the server saw.
    pub(super) async fn audit_as(
        &self,
        tx: &mut Tx,
        who: &str,
        action: &str,
        target: &str,
        details: serde_json::Value,
        now: Timestamp,
    ) -> Result<()> {
        let actor = Actor {
            name: who.to_owned(),
            ..self.actor.clone()
        };
        tx.append_audit(&NewAudit {
            at: now,
            actor: &actor,
            action,
            target,
            details,
        })
        .await?;
        Ok(())
    }
}

/// The shortest password enrolment accepts, for the pages' hint.
pub fn enrol_min_password() -> usize {
    MIN_PASSWORD
}
