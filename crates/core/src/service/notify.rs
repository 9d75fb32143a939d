//! The mail usher sends besides invitations: the inviter's notice of an answer, the
//! reminder before an invitation expires, and the self-registration link. Each is queued
//! in the transaction of the change it reports, so it leaves if and only if that commits.

use serde::Serialize;

use super::Usher;
use crate::domain::{Email, Timestamp};
use crate::error::Result;
use crate::mail::compose::{compose_rendered, new_message_id};
use crate::mail::{TemplateName, Templates};
use crate::store::{Invitation, NewMessage, Tx};

/// What the answered-invitation notice says.
#[derive(Debug, Serialize)]
struct AnsweredVars<'a> {
    org: &'a str,
    invitee: String,
    answer: &'static str,
    sent: String,
    at: String,
    grants: usize,
    mailbox: bool,
}

/// How an invitation was answered, for the inviter's notice.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answer {
    pub accepted: bool,
    pub grants: usize,
    pub mailbox: bool,
}

impl Usher {
    /// The account's templates: usher's own with the account's saved versions in place.
    pub(super) async fn templates_in(&self, tx: &mut Tx, account_id: i64) -> Result<Templates> {
        self.settings
            .templates
            .with_account(&tx.current_templates(account_id).await?)
    }

    /// Renders one of the notices with the account's templates and queues it; returns its
    /// outbox id.
    pub(super) async fn queue_notice(
        &self,
        tx: &mut Tx,
        account_id: i64,
        to: (&str, &str),
        which: TemplateName,
        vars: &impl Serialize,
    ) -> Result<i64> {
        let templates = self.templates_in(tx, account_id).await?;
        self.queue_notice_with(tx, &templates, account_id, to, which, vars)
            .await
    }

    /// The same, with templates already read (several notices in one transaction).
    pub(super) async fn queue_notice_with(
        &self,
        tx: &mut Tx,
        templates: &Templates,
        account_id: i64,
        to: (&str, &str),
        which: TemplateName,
        vars: &impl Serialize,
    ) -> Result<i64> {
        let now = self.clock.now();
        let r = templates.render(which, vars)?;
        let m = compose_rendered(
            &self.settings.from,
            to.0,
            to.1,
            &r,
            now,
            new_message_id(&self.settings.from)?,
        )?;
        tx.insert_message(&NewMessage {
            account_id,
            kind: which.outbox_kind(),
            message_id: &m.message_id,
            env_from: &m.env_from,
            env_to: &m.env_to.join(","),
            subject: &m.subject,
            raw: &m.raw,
            now,
        })
        .await
    }

    /// Tells whoever sent the invitation that it was answered: the inviter when the
    /// inviter is a mail address, else the configured fallback; returns who, if anyone.
    pub(super) async fn notify_inviter(
        &self,
        tx: &mut Tx,
        inv: &Invitation,
        org: &str,
        answer: Answer,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let to = Email::parse(&inv.inviter)
            .ok()
            .map(|e| e.display().to_owned())
            .or_else(|| self.settings.notify_fallback.clone());
        let Some(to) = to else { return Ok(None) };
        let name = format!("{} {}", inv.first_name, inv.last_name);
        let invitee = match name.trim() {
            "" => inv.email_display.clone(),
            n => format!("{n} <{}>", inv.email_display),
        };
        let vars = AnsweredVars {
            org,
            invitee,
            answer: if answer.accepted {
                "accepted"
            } else {
                "declined"
            },
            sent: Timestamp(inv.sent_at.unwrap_or(inv.created_at)).human(),
            at: now.human(),
            grants: answer.grants,
            mailbox: answer.mailbox,
        };
        let which = if answer.accepted {
            TemplateName::Accepted
        } else {
            TemplateName::Declined
        };
        self.queue_notice(tx, inv.account_id, ("", &to), which, &vars)
            .await?;
        Ok(Some(to))
    }
}
