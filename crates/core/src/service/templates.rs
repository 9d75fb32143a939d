//! The account's mail templates (docs/rules.md#invitations) and invitation switches: read,
//! check and preview, save a version, reset to usher's own; the invite feature on or off
//! for the account or for one operator.

use serde::Serialize;
use serde_json::json;

use super::Usher;
use crate::domain::{Permission, Timestamp};
use crate::error::{Error, Result};
use crate::mail::TemplateName;
use crate::mail::template::{Rendered, check};
use crate::store::{Account, NewAudit, NewTemplate, Tx};

/// A template as the editor and `usher templates show` see it.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    pub name: String,
    pub describe: String,
    /// The account replaced usher's own text.
    pub customised: bool,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub variables: Vec<String>,
    pub saved_by: Option<String>,
    pub saved_at: Option<String>,
}

impl Usher {
    /// Refuses when invitations are off for the account or for this operator.
    pub(super) async fn may_invite(&self, tx: &mut Tx, account: &Account) -> Result<()> {
        if !account.invitations_enabled {
            return Err(Error::InvitationsDisabled(account.name.clone()));
        }
        if let Some(reason) = tx
            .invite_block(account.id, &self.actor.name.to_lowercase())
            .await?
        {
            return Err(Error::InviteBlocked {
                operator: self.actor.name.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// Why this operator may not invite now, if they may not (for the console and CLI to
    /// say before anyone fills in a form).
    pub async fn invite_unavailable(&self) -> Result<Option<String>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        Ok(self
            .may_invite(&mut tx, &account)
            .await
            .err()
            .map(|e| e.to_string()))
    }

    /// Every template, as in force for the account.
    pub async fn templates(&self) -> Result<Vec<TemplateView>> {
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        let saved = tx.current_templates(account.id).await?;
        let t = self.settings.templates.with_account(&saved)?;
        Ok(TemplateName::ALL
            .into_iter()
            .map(|name| {
                let (subject, body, html) = t.source(name);
                let row = saved.iter().find(|s| s.name == name.key());
                TemplateView {
                    name: name.key().to_owned(),
                    describe: name.describe().to_owned(),
                    customised: t.version(name).is_some(),
                    subject,
                    body,
                    html,
                    variables: name.variables(),
                    saved_by: row.map(|r| r.created_by.clone()),
                    saved_at: row.map(|r| Timestamp(r.created_at).rfc3339()),
                }
            })
            .collect())
    }

    /// The template rendered with sample values, or why it cannot be saved.
    pub fn preview_template(
        &self,
        name: TemplateName,
        subject: &str,
        body: &str,
        html: Option<&str>,
    ) -> Result<Rendered> {
        check(name, subject, body, html)
    }

    /// Saves a new version of a template (needs `settings.manage`); it is refused, and
    /// nothing written, when `preview_template` would refuse it.
    pub async fn save_template(
        &self,
        name: TemplateName,
        subject: &str,
        body: &str,
        html: Option<&str>,
    ) -> Result<i64> {
        check(name, subject, body, html)?;
        self.store_template(name, false, subject, body, html).await
    }

    /// Puts usher's own text back in force.
    pub async fn reset_template(&self, name: TemplateName) -> Result<i64> {
        self.store_template(name, true, "", "", None).await
    }

    async fn store_template(
        &self,
        name: TemplateName,
        builtin: bool,
        subject: &str,
        body: &str,
        html: Option<&str>,
    ) -> Result<i64> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageSettings)
            .await?;
        let id = tx
            .insert_template(&NewTemplate {
                account_id: account.id,
                name: name.key(),
                builtin,
                subject,
                body,
                html,
                created_by: &self.actor.name,
                now,
            })
            .await?;
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action: if builtin {
                "template.reset"
            } else {
                "template.save"
            },
            target: &format!("template:{} {}", name.key(), account.name),
            details: json!({"version": id, "html": html.is_some()}),
        })
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Switches the invite feature on or off for the whole account (`settings.manage`).
    pub async fn set_invitations_enabled(&self, on: bool) -> Result<()> {
        let p = Permission::ManageSettings;
        self.settings_change(p, "invitations.enabled", json!({"on": on}), |tx, a| {
            Box::pin(async move { tx.set_invitations_enabled(a.id, on).await })
        })
        .await
    }

    /// Switches the invite feature off for one operator, with the reason they will be
    /// shown (None: on again).
    pub async fn set_invite_block(&self, operator: &str, reason: Option<&str>) -> Result<()> {
        let operator = operator.trim().to_lowercase();
        if operator.is_empty() {
            return Err(Error::invalid("operator", "is empty"));
        }
        let reason = reason.map(|r| super::check_name("reason", r)).transpose()?;
        let by = self.actor.name.clone();
        let now = self.clock.now();
        let details = json!({"operator": operator, "reason": reason});
        let p = Permission::ManageSettings;
        self.settings_change(p, "invitations.operator", details, |tx, a| {
            Box::pin(async move {
                tx.set_invite_block(a.id, &operator, reason.as_deref(), &by, now)
                    .await
            })
        })
        .await
    }

    /// One audited change of the account's settings, needing `permission`.
    pub(super) async fn settings_change<F>(
        &self,
        permission: Permission,
        action: &str,
        details: serde_json::Value,
        f: F,
    ) -> Result<()>
    where
        F: for<'t> FnOnce(
            &'t mut Tx,
            &'t Account,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<()>> + Send + 't>,
        >,
    {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, permission).await?;
        f(&mut tx, &account).await?;
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action,
            target: &format!("account:{} {}", account.id, account.name),
            details,
        })
        .await?;
        tx.commit().await
    }
}
