//! The invitations of an import, written in bulk: at a million rows one statement per
//! invitation would take minutes. Their mail is not written here: the import stores one
//! mailing (what every message shares, as a draft base) and each invitation keeps its
//! link's token, and the sender drafts the messages into the outbox a batch at a time as
//! it sends them (`mail::mailing`). Writing a million outbox rows and their indexes
//! inside the import's transaction was two fifths of its time on PostgreSQL.
//!
//! Building a chunk (its rows, tokens and hashes) overlaps with writing the one before:
//! the database works in its own process while this one builds, so neither waits for the
//! other.

use super::pending::names;
use crate::domain::token::TokenBatch;
use crate::domain::{Timestamp, UserType};
use crate::error::{Error, Result};
use crate::import::ImportRow;
use crate::import::plan::Invited;
use crate::mail::draft::DraftBase;
use crate::service::{Usher, enrol_link};
use crate::store::{Account, BulkInvitation, Tx, Written};

/// Rows per write.
const CHUNK: usize = 10_000;

pub(super) struct Invites<'a> {
    usher: &'a Usher,
    account: &'a Account,
    batch: i64,
    now: Timestamp,
    expires_at: Timestamp,
    /// What every message of the import shares: its template's variables alike, the link
    /// up to its token and the account's saved invitation template in force.
    shared: DraftBase,
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
        }
    }

    /// Writes the invitations, `written(n)` told after each chunk, then the mailing that
    /// will send them all; returns how many were written.
    pub(super) async fn write_all(
        &self,
        tx: &mut Tx,
        invitations: &[Invite<'_>],
        mut written: impl FnMut(usize),
    ) -> Result<usize> {
        let mut tokens = TokenBatch::default();
        let mut total = Written::default();
        let mut ready: Option<Vec<BulkInvitation>> = None;
        for chunk in invitations.chunks(CHUNK) {
            let build = async { build(chunk, &mut tokens) };
            let next = match ready.take() {
                // Biased: the write is sent first, then this chunk is built while the
                // database executes it.
                Some(prev) => {
                    let (w, next) = tokio::join!(biased; self.write(tx, &prev), build);
                    total.add(w?);
                    written(prev.len());
                    next?
                }
                None => build.await?,
            };
            ready = Some(next);
        }
        if let Some(last) = ready {
            total.add(self.write(tx, &last).await?);
            written(last.len());
        }
        // No mailing for an import that invites nobody.
        if let Some((first, last)) = total.ids {
            let shared = serde_json::to_string(&self.shared)
                .map_err(|e| Error::corrupt("the mailing's shared part", e))?;
            let base = tx
                .insert_draft_base(self.account.id, &shared, self.now)
                .await?;
            tx.start_mailing(base, self.batch, first, last).await?;
        }
        Ok(usize::try_from(total.rows).unwrap_or(usize::MAX))
    }

    async fn write(&self, tx: &mut Tx, rows: &[BulkInvitation]) -> Result<Written> {
        // The batch's import.apply audit entry counts these; each names its batch.
        let w = tx
            .insert_invitations_bulk(
                self.account.id,
                self.batch,
                &self.usher.actor.name,
                rows,
                self.now,
                self.expires_at,
            )
            .await?;
        if w.rows != rows.len() as u64 {
            return Err(Error::corrupt(
                "the import's invitations",
                format!("{} of {} were written", w.rows, rows.len()),
            ));
        }
        Ok(w)
    }
}

/// One invitation to write: its row, the type the apply gave it and the pending
/// invitation it replaces, if any (whose names and reference it keeps where the row has
/// none).
#[derive(Debug, Clone, Copy)]
pub(super) struct Invite<'a> {
    pub row: &'a ImportRow,
    pub user_type: UserType,
    pub replaces: Option<&'a Invited>,
}

/// A chunk's invitations, each with its token drawn and hashed.
fn build(chunk: &[Invite<'_>], tokens: &mut TokenBatch) -> Result<Vec<BulkInvitation>> {
    chunk
        .iter()
        .map(|i| {
            let token = tokens.draw()?;
            let r = i.row;
            let (first, last) = names(r, i.replaces);
            Ok(BulkInvitation {
                email: r.email().to_owned(),
                email_display: r.email_display().to_owned(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                unique_ref: r
                    .unique_ref()
                    .or(i.replaces.and_then(|v| v.unique_ref()))
                    .map(str::to_owned),
                user_type: i.user_type,
                token_hash: token.hash(),
                draft_token: token.plain().to_owned(),
            })
        })
        .collect()
}
