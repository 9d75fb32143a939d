//! Resend and revoke (docs/rules.md#invitations).

use serde_json::json;

use super::invite::{Invited, MailFor, seats};
use super::{Usher, parse_one};
use crate::domain::{InvitationStatus, Permission, Timestamp, Token, UserType};
use crate::error::{Clash, Error, Result};
use crate::store::{Account, Invitation, NewAudit, Tx};

/// An invitation or a user, named by id or by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Id(i64),
    Email(String),
}

impl std::str::FromStr for Target {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().parse::<i64>() {
            Ok(id) => Target::Id(id),
            Err(_) => Target::Email(s.trim().to_owned()),
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Id(id) => write!(f, "#{id}"),
            Target::Email(e) => f.write_str(e),
        }
    }
}

impl Usher {
    async fn find(
        &self,
        tx: &mut Tx,
        account: &Account,
        target: &Target,
        now: Timestamp,
    ) -> Result<Invitation> {
        let found = match target {
            Target::Id(id) => tx.invitation(account.id, *id, now).await?,
            Target::Email(e) => {
                let email = parse_one(e)?;
                tx.invitation_for_email(account.id, email.canonical(), now)
                    .await?
            }
        };
        found.ok_or_else(|| Error::NotFound(format!("invitation {target}")))
    }

    /// A new token and a new validity window from now; the old link stops working.
    pub async fn resend(&self, target: &Target) -> Result<Invited> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let inv = self.find(&mut tx, &account, target, now).await?;
        let templates = self.templates_in(&mut tx, account.id).await?;
        let done = self.renew(&mut tx, &account, &templates, inv, now).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Resends every expired invitation in one go, or none if the licences do not allow it.
    pub async fn resend_all_expired(&self) -> Result<Vec<Invited>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        tx.lock_account(account.id).await?;
        let mut expired = Vec::new();
        for id in tx.expired_invitation_ids(account.id, now).await? {
            if let Some(inv) = tx.invitation(account.id, id, now).await? {
                expired.push(inv);
            }
        }
        let professional = expired
            .iter()
            .filter(|i| i.user_type == UserType::Professional)
            .count();
        seats(&mut tx, &account, now)
            .await?
            .check(i64::try_from(professional).unwrap_or(i64::MAX))?;
        let templates = self.templates_in(&mut tx, account.id).await?;
        let mut done = Vec::with_capacity(expired.len());
        for inv in expired {
            done.push(self.renew(&mut tx, &account, &templates, inv, now).await?);
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn renew(
        &self,
        tx: &mut Tx,
        account: &Account,
        templates: &crate::mail::Templates,
        inv: Invitation,
        now: Timestamp,
    ) -> Result<Invited> {
        match inv.status {
            InvitationStatus::Pending => {}
            InvitationStatus::Expired => {
                // An expired invitation holds no seat; renewing it takes one again.
                if inv.user_type == UserType::Professional {
                    seats(tx, account, now).await?.check(1)?;
                }
            }
            other => {
                return Err(Error::conflict(
                    Clash::State,
                    format!(
                        "invitation {} for {} is {other}; only pending or expired invitations can be resent (invite the address again instead)",
                        inv.id, inv.email_display
                    ),
                ));
            }
        }
        self.may_invite(tx, account).await?;
        let token = Token::generate()?;
        let days = account.invite_validity_days;
        let expires_at = now.plus_days(days);
        tx.renew_invitation(inv.id, &token.hash(), expires_at)
            .await?;
        self.queue_invitation_mail(
            tx,
            account,
            templates,
            &MailFor {
                invitation_id: inv.id,
                email: &inv.email_display,
                first_name: &inv.first_name,
                last_name: &inv.last_name,
                previous_outbox: inv.outbox_id,
                days,
                expires_at,
                subject: None,
                message: None,
                options: None,
            },
            &token,
        )
        .await?;
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action: "invitation.resend",
            target: &format!("invitation:{} {}", inv.id, inv.email),
            details: json!({
                "was": inv.status,
                "resend_count": inv.resend_count + 1,
                "expires_at": expires_at.rfc3339(),
            }),
        })
        .await?;
        Ok(Invited {
            id: inv.id,
            email: inv.email_display,
            renewed: true,
            expires_at: expires_at.rfc3339(),
        })
    }

    /// Kills the link. A message still waiting in the outbox is withdrawn.
    pub async fn revoke(&self, target: &Target) -> Result<Invitation> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        let inv = self.find(&mut tx, &account, target, now).await?;
        if !matches!(
            inv.status,
            InvitationStatus::Pending | InvitationStatus::Expired
        ) {
            return Err(Error::conflict(
                Clash::State,
                format!(
                    "invitation {} for {} is already {}",
                    inv.id, inv.email_display, inv.status
                ),
            ));
        }
        tx.revoke_invitation(inv.id, now).await?;
        if let Some(o) = inv.outbox_id {
            tx.cancel_message(o).await?;
        }
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action: "invitation.revoke",
            target: &format!("invitation:{} {}", inv.id, inv.email),
            details: json!({"was": inv.status}),
        })
        .await?;
        let revoked = tx.invitation(account.id, inv.id, now).await?;
        tx.commit().await?;
        revoked.ok_or_else(|| Error::NotFound(format!("invitation {target}")))
    }
}
