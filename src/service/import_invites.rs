//! The invitations of an import, written in bulk: at a million rows one statement per
//! invitation, and a composed message each, would take minutes and gigabytes. Each mail is
//! queued as a draft (see `mail::draft`) with its Message-ID and date fixed now.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Usher;
use crate::domain::{Timestamp, Token, UserType};
use crate::error::Result;
use crate::import::ImportRow;
use crate::mail::compose::new_message_id;
use crate::mail::{Draft, Renderer};
use crate::store::{Account, BulkInvitation, NewDraft, Tx};

pub(super) struct Invites {
    renderer: Arc<Renderer>,
    invitations: Vec<BulkInvitation>,
    drafts: Vec<NewDraft>,
}

impl Invites {
    pub(super) fn new(u: &Usher) -> Self {
        Self {
            renderer: u.renderer(),
            invitations: Vec::new(),
            drafts: Vec::new(),
        }
    }

    /// One more invitation, with its mail.
    pub(super) fn add(
        &mut self,
        u: &Usher,
        account: &Account,
        r: &ImportRow,
        user_type: UserType,
        expires_at: Timestamp,
        days: i64,
    ) -> Result<()> {
        let token = Token::generate()?;
        let draft = Draft {
            to_name: format!("{} {}", r.first_name, r.last_name)
                .trim()
                .to_owned(),
            to: r.email.display().to_owned(),
            vars: u.invitation_vars(
                account,
                r.email.display(),
                &r.first_name,
                &r.last_name,
                &token,
                expires_at,
                days,
            ),
            subject: None,
            message: None,
        };
        let message_id = new_message_id(&u.settings.from)?;
        self.drafts.push(NewDraft {
            subject: self.renderer.subject(&draft)?,
            message_id: message_id.clone(),
            env_to: draft.to.clone(),
            draft: serde_json::to_string(&draft).unwrap_or_default(),
        });
        self.invitations.push(BulkInvitation {
            email: r.email.canonical().to_owned(),
            email_display: r.email.display().to_owned(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            user_type,
            token_hash: token.hash(),
            // Filled in by `write`, from the Message-ID.
            outbox_id: 0,
        });
        Ok(())
    }

    /// Writes them all; returns how many.
    pub(super) async fn write(
        mut self,
        tx: &mut Tx,
        account: &Account,
        batch: i64,
        now: Timestamp,
        expires_at: Timestamp,
        u: &Usher,
    ) -> Result<usize> {
        if self.invitations.is_empty() {
            return Ok(0);
        }
        let env_from = u.settings.from.email.to_string();
        let outbox = tx
            .insert_drafts(account.id, &env_from, &self.drafts, now)
            .await?;
        for (inv, d) in self.invitations.iter_mut().zip(&self.drafts) {
            inv.outbox_id = outbox.get(&d.message_id).copied().unwrap_or_default();
        }
        let ids = tx
            .insert_invitations_bulk(
                account.id,
                &u.actor.name,
                &self.invitations,
                now,
                expires_at,
            )
            .await?;
        let mut changes = Vec::with_capacity(ids.len());
        let mut audit: Vec<(String, Value)> = Vec::with_capacity(ids.len());
        for inv in &self.invitations {
            let id = ids.get(&inv.email).copied().unwrap_or_default();
            changes.push(id);
            audit.push((
                format!("invitation:{id} {}", inv.email),
                json!({"batch": batch, "user_type": inv.user_type}),
            ));
        }
        tx.insert_invite_changes(batch, &changes).await?;
        tx.append_audit_bulk(now, &u.actor, "invitation.create", &audit)
            .await?;
        Ok(self.invitations.len())
    }
}
