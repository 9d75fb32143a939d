//! The invitations of an import, written in bulk: at a million rows one statement per
//! invitation would take minutes. Their mail is not written here: the import stores one
//! mailing (what every message shares, as a draft base) and each invitation keeps its
//! link's token, and the sender drafts the messages into the outbox a batch at a time as
//! it sends them (`mail::mailing`). Writing a million outbox rows and their indexes
//! inside the import's transaction was two fifths of its time on PostgreSQL.
//!
//! Two stages overlap: while one chunk of 10,000 is written, the next one's tokens are
//! drawn and hashed on a blocking thread, so the database never waits for the CPU work.

use super::{Usher, enrol_link};
use crate::domain::token::TokenBatch;
use crate::domain::{Timestamp, UserType};
use crate::error::{Error, Result};
use crate::import::ImportRow;
use crate::mail::draft::DraftBase;
use crate::store::{Account, BulkInvitation, Tx, Written};

/// Rows per write.
const CHUNK: usize = 10_000;

/// Gives each invitation its token. Owned, so that it can move to a blocking thread and
/// back.
struct Preparer {
    tokens: TokenBatch,
}

impl Preparer {
    fn prepare(&mut self, mut invitations: Vec<BulkInvitation>) -> Result<Vec<BulkInvitation>> {
        for r in &mut invitations {
            let token = self.tokens.draw()?;
            r.token_hash = token.hash();
            r.draft_token = token.plain().to_owned();
        }
        Ok(invitations)
    }
}

pub(super) struct Invites<'a> {
    usher: &'a Usher,
    account: &'a Account,
    batch: i64,
    now: Timestamp,
    expires_at: Timestamp,
    /// What every message of the import shares: its template's variables alike, the link
    /// up to its token and the account's saved invitation template in force.
    shared: DraftBase,
    /// Away on a blocking thread while it prepares a chunk.
    preparer: Option<Preparer>,
    /// Rows as the file gave them, before their tokens exist.
    rows: Vec<BulkInvitation>,
    /// Prepared, waiting for the chunk before it to be written.
    ready: Option<Vec<BulkInvitation>>,
    written: Written,
}

impl<'a> Invites<'a> {
    pub(super) fn new(
        usher: &'a Usher,
        account: &'a Account,
        batch: i64,
        now: Timestamp,
        expires_at: Timestamp,
        templates: &crate::mail::Templates,
    ) -> Self {
        Self {
            usher,
            account,
            batch,
            now,
            expires_at,
            shared: DraftBase {
                vars: usher.invitation_base(account, expires_at, account.invite_validity_days),
                link: enrol_link(&usher.settings.public_url, ""),
                template: templates.version(crate::mail::TemplateName::Invitation),
            },
            preparer: Some(Preparer {
                tokens: TokenBatch::default(),
            }),
            rows: Vec::with_capacity(CHUNK),
            ready: None,
            written: Written::default(),
        }
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
            // Filled in by `prepare`.
            token_hash: String::new(),
            draft_token: String::new(),
        });
        if self.rows.len() >= CHUNK {
            self.hand_over(tx).await?;
        }
        Ok(())
    }

    /// Writes what is left and the mailing that will send it all; returns how many
    /// invitations were written.
    pub(super) async fn finish(mut self, tx: &mut Tx) -> Result<usize> {
        if !self.rows.is_empty() {
            self.hand_over(tx).await?;
        }
        if let Some(ready) = self.ready.take() {
            self.write(tx, ready).await?;
        }
        // No mailing for an import that invites nobody.
        if let Some((first, last)) = self.written.ids {
            let shared = serde_json::to_string(&self.shared)
                .map_err(|e| Error::Task(format!("the mailing's shared part: {e}")))?;
            let base = tx
                .insert_draft_base(self.account.id, &shared, self.now)
                .await?;
            tx.start_mailing(base, self.batch, first, last).await?;
        }
        Ok(usize::try_from(self.written.rows).unwrap_or(usize::MAX))
    }

    /// Prepares the rows collected so far while the chunk before them is written.
    async fn hand_over(&mut self, tx: &mut Tx) -> Result<()> {
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

    async fn write(&mut self, tx: &mut Tx, ready: Vec<BulkInvitation>) -> Result<()> {
        // The batch's import.apply audit entry counts these; each names its batch.
        let w = tx
            .insert_invitations_bulk(
                self.account.id,
                self.batch,
                &self.usher.actor.name,
                &ready,
                self.now,
                self.expires_at,
            )
            .await?;
        if w.rows != ready.len() as u64 {
            return Err(Error::Task(format!(
                "{} of {} invitations were written",
                w.rows,
                ready.len()
            )));
        }
        self.written.add(w);
        Ok(())
    }
}
