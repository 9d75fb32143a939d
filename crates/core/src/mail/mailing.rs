//! Drafts an import's invitation mail into the outbox as the sender goes (see
//! `store::mailings`): a batch at a time, just before it is claimed, so that an import
//! only writes its invitations, and a link's token sits in an outbox draft only for as
//! long as its message waits to be sent.

use crate::error::{Error, Result};
use crate::mail::compose::MessageIds;
use crate::mail::draft::BulkDraft;
use crate::mail::sender::Sender;
use crate::store::{Mailing, NewDraft, Undrafted};

/// The fewest ids one query looks at, so that a mailing with holes is not stepped
/// through a few ids at a time.
const WINDOW: i64 = 1_000;

impl Sender {
    /// Drafts up to `limit` messages of the oldest mailing that has any left, in one
    /// transaction; returns how many.
    pub async fn draft_mailing(&self, limit: usize) -> Result<usize> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let Some(m) = tx.next_mailing().await? else {
            return Ok(0);
        };
        // Windows of ids until enough are found or the mailing's range ends: revoked
        // invitations leave holes to step over. `next` is the first id not drafted yet.
        let mut rows: Vec<Undrafted> = Vec::with_capacity(limit);
        let mut next = Some(m.next_invitation);
        while let Some(from) = next
            && rows.len() < limit
        {
            let want = i64::try_from(limit - rows.len()).unwrap_or(i64::MAX);
            let to = from
                .saturating_add(want.max(WINDOW) - 1)
                .min(m.last_invitation);
            next = (to < m.last_invitation).then_some(to + 1);
            // Revoking clears the token; this keeps any other answered one out too.
            let found = tx.undrafted(m.import_batch_id, from, to).await?;
            for r in found.into_iter().filter(|r| r.status == "pending") {
                if rows.len() == limit {
                    next = Some(r.id);
                    break;
                }
                rows.push(r);
            }
        }
        let drafts = self.drafts_of(&m, &rows).await?;
        let env_from = self.renderer.from().email.to_string();
        let outbox = tx
            .insert_drafts(m.account_id, &env_from, &drafts, now)
            .await?;
        let drafted = rows
            .iter()
            .zip(&drafts)
            .map(|(r, d)| {
                outbox
                    .get(&d.message_id)
                    .map(|&o| (r.id, o))
                    .ok_or_else(|| {
                        Error::corrupt(
                            format!("the draft {}", d.message_id),
                            "not returned by the insert",
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        tx.set_drafted(&drafted).await?;
        tx.advance_mailing(m.id, next).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The outbox drafts of a mailing's invitations, each with its own Message-ID, fixed
    /// now so that a retry sends the same message.
    async fn drafts_of(&self, m: &Mailing, rows: &[Undrafted]) -> Result<Vec<NewDraft>> {
        let mut ids = MessageIds::new(self.renderer.from())?;
        let mut shared_subject: Option<String> = None;
        let mut drafts = Vec::with_capacity(rows.len());
        for r in rows {
            let draft = BulkDraft {
                base: m.id,
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                token: r.draft_token.clone(),
            };
            let subject = match &shared_subject {
                Some(s) => s.clone(),
                None => {
                    let (subject, shared) = self.subject_of(m, &draft, &r.email_display).await?;
                    if shared {
                        shared_subject = Some(subject.clone());
                    }
                    subject
                }
            };
            drafts.push(NewDraft {
                message_id: ids.next_id(),
                env_to: r.email_display.clone(),
                subject,
                draft: serde_json::to_string(&draft).map_err(|e| Error::corrupt("a draft", e))?,
            });
        }
        Ok(drafts)
    }

    /// A draft's subject, for the outbox's list, and whether every draft of the mailing
    /// has it (the template does not name the recipient). A base or template that cannot
    /// be read leaves it empty: the message is drafted all the same, and fails with the
    /// reason when it is sent, where the operator looks, instead of holding up the queue.
    async fn subject_of(&self, m: &Mailing, d: &BulkDraft, to: &str) -> Result<(String, bool)> {
        let json = serde_json::to_string(d).map_err(|e| Error::corrupt("a draft", e))?;
        let whole = match self.whole_draft(&json, to).await {
            Ok(w) => w,
            Err(e @ Error::Draft(_)) => {
                tracing::warn!("mailing {}: {e}", m.id);
                return Ok((String::new(), true));
            }
            Err(e) => return Err(e),
        };
        let renderer = self.renderer_for(&whole).await?;
        match renderer.subject(&whole) {
            Ok(s) => Ok((s, !renderer.subject_names_recipient())),
            Err(e) => {
                tracing::warn!("mailing {}: {e}", m.id);
                Ok((String::new(), true))
            }
        }
    }
}
