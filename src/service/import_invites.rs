//! The invitations of an import, written in bulk: at a million rows one statement per
//! invitation, and a composed message each, would take minutes and gigabytes. Each mail is
//! queued as a draft (see `mail::draft`) with its Message-ID and date fixed now.

use std::sync::Arc;

use super::Usher;
use crate::domain::token::TokenBatch;
use crate::domain::{Timestamp, UserType};
use crate::error::Result;
use crate::import::ImportRow;
use crate::mail::compose::MessageIds;
use crate::mail::{Draft, InvitationVars, Renderer};
use crate::store::{Account, BulkInvitation, NewDraft, Tx};

/// Rows per write.
const CHUNK: usize = 10_000;

pub(super) struct Invites<'a> {
    usher: &'a Usher,
    account: &'a Account,
    batch: i64,
    now: Timestamp,
    expires_at: Timestamp,
    renderer: Arc<Renderer>,
    /// What every invitation's template is given alike.
    base: InvitationVars,
    tokens: TokenBatch,
    message_ids: MessageIds,
    invitations: Vec<BulkInvitation>,
    drafts: Vec<NewDraft>,
    written: usize,
    /// The subject, when it is the same for every invitation.
    shared_subject: Option<String>,
}

impl<'a> Invites<'a> {
    pub(super) fn new(
        usher: &'a Usher,
        account: &'a Account,
        batch: i64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Self> {
        Ok(Self {
            usher,
            account,
            batch,
            now,
            expires_at,
            renderer: usher.renderer(),
            base: usher.invitation_base(account, expires_at, account.invite_validity_days),
            tokens: TokenBatch::default(),
            message_ids: MessageIds::new(&usher.settings.from)?,
            invitations: Vec::with_capacity(CHUNK),
            drafts: Vec::with_capacity(CHUNK),
            written: 0,
            shared_subject: None,
        })
    }

    /// One more invitation, with its mail; written with the others of its chunk, so that
    /// memory stays bounded however long the file.
    pub(super) async fn add(
        &mut self,
        tx: &mut Tx,
        r: &ImportRow,
        user_type: UserType,
    ) -> Result<()> {
        let token = self.tokens.draw()?;
        let draft = Draft {
            to_name: format!("{} {}", r.first_name, r.last_name)
                .trim()
                .to_owned(),
            to: r.email.display().to_owned(),
            vars: InvitationVars {
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                email: r.email.display().to_owned(),
                link: self.usher.link(token.plain()),
                ..self.base.clone()
            },
            subject: None,
            message: None,
        };
        let message_id = self.message_ids.next_id();
        self.drafts.push(NewDraft {
            subject: match &self.shared_subject {
                Some(s) => s.clone(),
                None => {
                    let s = self.renderer.subject(&draft)?;
                    if !self.renderer.subject_names_recipient() {
                        self.shared_subject = Some(s.clone());
                    }
                    s
                }
            },
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
            // Filled in by `flush`, from the Message-ID.
            outbox_id: 0,
        });
        if self.invitations.len() >= CHUNK {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// Writes what is left; returns how many were written in all.
    pub(super) async fn finish(mut self, tx: &mut Tx) -> Result<usize> {
        self.flush(tx).await?;
        Ok(self.written)
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.invitations.is_empty() {
            return Ok(());
        }
        let (u, account, now) = (self.usher, self.account, self.now);
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
                self.expires_at,
            )
            .await?;
        let mut changes = Vec::with_capacity(ids.len());
        let mut audit = Vec::with_capacity(ids.len());
        for inv in &self.invitations {
            let id = ids.get(&inv.email).copied().unwrap_or_default();
            changes.push(id);
            audit.push((
                format!("invitation:{id} {}", inv.email),
                format!(
                    r#"{{"batch":{},"user_type":"{}"}}"#,
                    self.batch,
                    inv.user_type.as_str()
                ),
            ));
        }
        tx.insert_invite_changes(self.batch, &changes).await?;
        tx.append_audit_bulk(now, &u.actor, "invitation.create", &audit)
            .await?;
        self.written += self.invitations.len();
        self.invitations.clear();
        self.drafts.clear();
        Ok(())
    }
}
