//! Following an invitation's link (seeds 000 to 002): the invitee creates their account,
//! or declines. The link's token is consumed once, inside the transaction that acts on
//! it, so fifty submissions of one link make one account.

use serde_json::json;

use super::Usher;
use super::mailboxes::personal_mailbox;
use crate::config::Secret;
use crate::domain::token::hash_token;
use crate::domain::{InvitationStatus, UserStatus};
use crate::error::{Error, Result};
use crate::store::{Invitation, NewUser, Tx, User};

/// Shortest password accepted at enrolment (OWASP ASVS: at least 12 characters).
pub const MIN_PASSWORD: usize = 12;
/// Longest; well above the 64 OWASP asks to allow, short enough to bound argon2's input.
pub const MAX_PASSWORD: usize = 1024;

/// What the enrolment page's form submits.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub display_name: String,
    pub password: Secret,
    pub personal_mailbox: bool,
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
    now: crate::domain::Timestamp,
) -> Result<Option<Invitation>> {
    Ok(tx
        .invitation_by_token_hash(&hash_token(token), now)
        .await?
        .filter(|i| i.status == InvitationStatus::Pending))
}

/// The pending invitation behind a link, or the one refusal for every other case.
async fn pending(tx: &mut Tx, token: &str, now: crate::domain::Timestamp) -> Result<Invitation> {
    pending_for_token(tx, token, now)
        .await?
        .ok_or(Error::LinkUnusable)
}

impl Usher {
    /// Creates the invitee's account, active, with the invitation's grants and, if asked,
    /// a personal mailbox; the invitation becomes accepted. Whole or not at all.
    pub async fn accept_invitation(&self, token: &str, e: &Enrolment) -> Result<User> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let inv = pending(&mut tx, token, now).await?;
        check_new_password(e.password.expose(), &inv.email)?;
        let name = super::check_name("display name", &e.display_name)?;
        // Hashing takes a moment by design; the write lock is held, but one enrolment at
        // a time is what the account can bear anyway.
        let phc = crate::domain::password::hash_password(&e.password)
            .map_err(|err| Error::invalid("password", err.to_string()))?;
        if !tx.answer_invitation(inv.id, true, now).await? {
            return Err(Error::LinkUnusable);
        }
        if tx
            .user_by_email(inv.account_id, &inv.email)
            .await?
            .is_some()
        {
            return Err(Error::Conflict(format!(
                "{} is a user of the account already",
                inv.email_display
            )));
        }
        let (first, last) = match name.rsplit_once(' ') {
            Some((f, l)) => (f.trim().to_owned(), l.to_owned()),
            None => (name.clone(), String::new()),
        };
        let id = tx
            .insert_user(&NewUser {
                account_id: inv.account_id,
                email: &inv.email,
                email_display: &inv.email_display,
                first_name: &first,
                last_name: &last,
                unique_ref: None,
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
        self.record(
            &mut tx,
            now,
            "invitation.accept",
            &format!("invitation:{} {}", inv.id, inv.email),
            json!({"user": id, "grants": grants, "personal_mailbox": e.personal_mailbox}),
        )
        .await?;
        let user = tx
            .user_by_id(inv.account_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Declines: the invitation is closed and its promised grants go with it.
    pub async fn decline_invitation(&self, token: &str) -> Result<Invitation> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let inv = pending(&mut tx, token, now).await?;
        if !tx.answer_invitation(inv.id, false, now).await? {
            return Err(Error::LinkUnusable);
        }
        self.record(
            &mut tx,
            now,
            "invitation.decline",
            &format!("invitation:{} {}", inv.id, inv.email),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(inv)
    }
}
