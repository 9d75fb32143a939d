//! Reminders: a while before an unanswered invitation expires, the invitee is mailed
//! again. The token is unknown to usher (only its hash is kept), so the reminder carries
//! a fresh one with the same expiry, and says that it replaces the first link.

use serde_json::json;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::Usher;
use crate::domain::{Timestamp, Token};
use crate::error::Result;
use crate::mail::{InvitationVars, TemplateName, Templates};
use crate::store::NewAudit;

/// Reminders queued per transaction, so a large backlog does not hold the lock long.
const BATCH: i64 = 200;

impl Usher {
    /// Queues the reminders that are due, in every account; returns how many. Does nothing
    /// when reminders are off. Safe to run from several servers at once: each invitation
    /// is reminded once.
    pub async fn send_reminders(&self) -> Result<usize> {
        let Some(lead) = self.settings.reminder_lead_ms else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let mut tx = self.store.write().await?;
            let due = tx
                .invitations_to_remind(now, now.plus_ms(lead), BATCH)
                .await?;
            let mut queued = 0;
            // Each account's name and templates, read once per batch.
            let mut accounts: HashMap<i64, (String, Templates)> = HashMap::new();
            for inv in &due {
                let token = Token::generate()?;
                if !tx.mark_reminded(inv.id, &token.hash(), now).await? {
                    continue;
                }
                let (org, templates) = match accounts.entry(inv.account_id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let name = tx
                            .account_by_id(inv.account_id)
                            .await?
                            .map(|a| a.name)
                            .unwrap_or_default();
                        let templates = self.templates_in(&mut tx, inv.account_id).await?;
                        e.insert((name, templates))
                    }
                };
                let org = org.clone();
                let vars = InvitationVars {
                    org,
                    inviter_name: inv.inviter.trim_start_matches("os:").to_owned(),
                    first_name: inv.first_name.clone(),
                    last_name: inv.last_name.clone(),
                    email: inv.email_display.clone(),
                    link: self.link(token.plain()),
                    expires: Timestamp(inv.expires_at).human(),
                    validity_days: (inv.expires_at - now.0) / 86_400_000,
                };
                let to_name = format!("{} {}", inv.first_name, inv.last_name);
                let outbox = self
                    .queue_notice_with(
                        &mut tx,
                        templates,
                        inv.account_id,
                        (to_name.trim(), &inv.email_display),
                        TemplateName::Reminder,
                        &vars,
                    )
                    .await?;
                tx.append_audit(&NewAudit {
                    at: now,
                    actor: &self.actor,
                    action: "invitation.remind",
                    target: &format!("invitation:{} {}", inv.id, inv.email),
                    details: json!({"outbox": outbox,
                                    "expires_at": Timestamp(inv.expires_at).rfc3339()}),
                })
                .await?;
                queued += 1;
            }
            tx.commit().await?;
            total += queued;
            if (due.len() as i64) < BATCH {
                return Ok(total);
            }
        }
    }
}
