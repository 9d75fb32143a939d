//! The invitations of an import, written in bulk: at a million rows one statement per
//! invitation, and a composed message each, would take minutes and gigabytes. Each mail is
//! queued as a draft (see `mail::draft`) with its Message-ID and date fixed now: the
//! invitee's names and token, with what every draft of the import shares stored once.
//!
//! Two stages overlap: while one chunk of 10,000 is written, the next is prepared (tokens,
//! drafts, their JSON) on a blocking thread, so the database never waits for the CPU work
//! and the CPU work never waits for the database.

use std::sync::Arc;

use super::{Usher, enrol_link};
use crate::domain::token::TokenBatch;
use crate::domain::{Timestamp, UserType};
use crate::error::{Error, Result};
use crate::import::ImportRow;
use crate::mail::Renderer;
use crate::mail::compose::MessageIds;
use crate::mail::draft::{BulkDraft, DraftBase};
use crate::store::{Account, BulkInvitation, NewDraft, Tx};

/// Rows per write.
const CHUNK: usize = 10_000;

/// A chunk ready to write.
struct Ready {
    drafts: Vec<NewDraft>,
    invitations: Vec<BulkInvitation>,
}

/// Turns rows into invitations with their drafts. Owned, so that it can move to a
/// blocking thread and back.
struct Preparer {
    renderer: Arc<Renderer>,
    /// What every draft shares: its template's variables alike, the link up to its token
    /// and the account's saved invitation template in force.
    shared: DraftBase,
    /// The id `shared` is stored under, once it is.
    base_id: Option<i64>,
    tokens: TokenBatch,
    message_ids: MessageIds,
    /// The subject, when it is the same for every invitation.
    shared_subject: Option<String>,
}

impl Preparer {
    /// Gives each invitation its token and its draft.
    fn prepare(&mut self, mut invitations: Vec<BulkInvitation>) -> Result<Ready> {
        let base = self
            .base_id
            .ok_or_else(|| Error::Task("the drafts' shared part was not stored".into()))?;
        let mut drafts = Vec::with_capacity(invitations.len());
        for r in &mut invitations {
            let token = self.tokens.draw()?;
            let draft = BulkDraft {
                base,
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                token: token.plain().to_owned(),
            };
            let subject = match &self.shared_subject {
                Some(s) => s.clone(),
                None => {
                    let whole = self.shared.expand(draft.clone(), &r.email_display);
                    let s = self.renderer.subject(&whole)?;
                    if !self.renderer.subject_names_recipient() {
                        self.shared_subject = Some(s.clone());
                    }
                    s
                }
            };
            drafts.push(NewDraft {
                subject,
                message_id: self.message_ids.next_id(),
                env_to: r.email_display.clone(),
                draft: serde_json::to_string(&draft).unwrap_or_default(),
            });
            r.token_hash = token.hash();
        }
        Ok(Ready {
            drafts,
            invitations,
        })
    }
}

pub(super) struct Invites<'a> {
    usher: &'a Usher,
    account: &'a Account,
    batch: i64,
    now: Timestamp,
    expires_at: Timestamp,
    /// Away on a blocking thread while it prepares a chunk.
    preparer: Option<Preparer>,
    /// Rows as the file gave them, before their tokens and mail exist.
    rows: Vec<BulkInvitation>,
    /// Prepared, waiting for the chunk before it to be written.
    ready: Option<Ready>,
    written: usize,
}

impl<'a> Invites<'a> {
    pub(super) fn new(
        usher: &'a Usher,
        account: &'a Account,
        batch: i64,
        now: Timestamp,
        expires_at: Timestamp,
        templates: crate::mail::Templates,
    ) -> Result<Self> {
        let template = templates.version(crate::mail::TemplateName::Invitation);
        let preparer = Preparer {
            renderer: Arc::new(usher.renderer().with_templates(templates)),
            shared: DraftBase {
                vars: usher.invitation_base(account, expires_at, account.invite_validity_days),
                link: enrol_link(&usher.settings.public_url, ""),
                template,
            },
            base_id: None,
            tokens: TokenBatch::default(),
            message_ids: MessageIds::new(&usher.settings.from)?,
            shared_subject: None,
        };
        Ok(Self {
            usher,
            account,
            batch,
            now,
            expires_at,
            preparer: Some(preparer),
            rows: Vec::with_capacity(CHUNK),
            ready: None,
            written: 0,
        })
    }

    /// One more invitation; written with the others of its chunk, so that memory stays
    /// bounded however long the file.
    pub(super) async fn add(
        &mut self,
        tx: &mut Tx,
        r: &ImportRow,
        user_type: UserType,
    ) -> Result<()> {
        self.rows.push(BulkInvitation {
            email: r.email().to_owned(),
            email_display: r.email_display().to_owned(),
            first_name: r.first_name().to_string(),
            last_name: r.last_name().to_string(),
            user_type,
            // Filled in by `prepare`, and from the Message-ID when written.
            token_hash: String::new(),
            outbox_id: 0,
        });
        if self.rows.len() >= CHUNK {
            self.hand_over(tx).await?;
        }
        Ok(())
    }

    /// Writes what is left; returns how many were written in all.
    pub(super) async fn finish(mut self, tx: &mut Tx) -> Result<usize> {
        if !self.rows.is_empty() {
            self.hand_over(tx).await?;
        }
        if let Some(ready) = self.ready.take() {
            self.write(tx, ready).await?;
        }
        Ok(self.written)
    }

    /// Prepares the rows collected so far while the chunk before them is written.
    async fn hand_over(&mut self, tx: &mut Tx) -> Result<()> {
        // Stored with the first chunk, so that an import without invitations stores none.
        if let Some(p) = self.preparer.as_mut()
            && p.base_id.is_none()
        {
            let shared = serde_json::to_string(&p.shared)
                .map_err(|e| Error::Task(format!("the drafts' shared part: {e}")))?;
            p.base_id = Some(
                tx.insert_draft_base(self.account.id, &shared, self.now)
                    .await?,
            );
        }
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(CHUNK));
        let mut preparer = self
            .preparer
            .take()
            .ok_or_else(|| Error::Task("the invitation preparer was lost".into()))?;
        let job = tokio::task::spawn_blocking(move || {
            let ready = preparer.prepare(rows);
            (preparer, ready)
        });
        if let Some(ready) = self.ready.take() {
            self.write(tx, ready).await?;
        }
        let (preparer, ready) = job.await.map_err(|e| Error::Task(e.to_string()))?;
        self.preparer = Some(preparer);
        self.ready = Some(ready?);
        Ok(())
    }

    async fn write(&mut self, tx: &mut Tx, mut ready: Ready) -> Result<()> {
        let (u, account, now) = (self.usher, self.account, self.now);
        let env_from = u.settings.from.email.to_string();
        let outbox = tx
            .insert_drafts(account.id, &env_from, &ready.drafts, now)
            .await?;
        // No foreign key checks this on PostgreSQL (see its migration 0013): an id that
        // did not come back stops the import instead of pointing nowhere.
        for (inv, d) in ready.invitations.iter_mut().zip(&ready.drafts) {
            inv.outbox_id = *outbox.get(&d.message_id).ok_or_else(|| {
                Error::Task(format!(
                    "the queued draft {} was not returned",
                    d.message_id
                ))
            })?;
        }
        drop(ready.drafts);
        // The batch's import.apply audit entry counts these; each names its batch.
        self.written += tx
            .insert_invitations_bulk(
                account.id,
                self.batch,
                &u.actor.name,
                &ready.invitations,
                now,
                self.expires_at,
            )
            .await? as usize;
        Ok(())
    }
}
