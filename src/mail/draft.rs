//! Messages queued as drafts and rendered when the sender claims them.
//!
//! Composing a message costs tens of microseconds and a couple of kilobytes; for an import
//! of a million invitations that is most of the time and gigabytes of outbox. A draft keeps
//! only the template's variables; the Message-ID and date are fixed when it is queued, so
//! the message rendered at the first attempt and at any retry is the same.

use std::sync::Arc;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::error::{Error, Result};
use crate::mail::compose::compose_rendered;
use crate::mail::template::{InvitationVars, Templates};

/// An invitation to render later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub to_name: String,
    pub to: String,
    pub vars: InvitationVars,
    /// This invitation's own subject and message (template source), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The account's saved invitation template in force when it was queued (None:
    /// usher's own), so that an edit later does not change a queued message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<i64>,
}

/// Only the template version of a stored draft, read without the rest.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    template: Option<i64>,
}

/// The saved template version a stored draft names, if any.
pub fn template_version(draft: &str) -> Option<i64> {
    serde_json::from_str::<VersionOnly>(draft)
        .ok()
        .and_then(|v| v.template)
}

/// Renders drafts with the account's templates and sender address.
#[derive(Debug, Clone)]
pub struct Renderer {
    templates: Arc<Templates>,
    from: Mailbox,
}

impl Renderer {
    pub fn new(templates: Arc<Templates>, from: Mailbox) -> Self {
        Self { templates, from }
    }

    /// The same sender address with other templates (an account's, or one saved version).
    pub fn with_templates(&self, templates: Templates) -> Self {
        Self {
            templates: Arc::new(templates),
            from: self.from.clone(),
        }
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The subject, for the outbox's list, when the draft is queued.
    pub fn subject(&self, d: &Draft) -> Result<String> {
        self.templates
            .invitation_subject(d.subject.as_deref(), &d.vars)
    }

    pub fn subject_names_recipient(&self) -> bool {
        self.templates.subject_names_recipient()
    }

    /// The message as it is sent: `draft` is the stored JSON.
    pub fn render(&self, draft: &str, message_id: &str, date: Timestamp) -> Result<Vec<u8>> {
        let d: Draft = serde_json::from_str(draft)
            .map_err(|e| Error::Mail(format!("unreadable draft: {e}")))?;
        let r = self.templates.invitation_custom(
            d.subject.as_deref(),
            d.message.as_deref(),
            &d.vars,
        )?;
        let composed = compose_rendered(
            &self.from,
            d.to_name.trim(),
            &d.to,
            &r,
            date,
            message_id.to_owned(),
        )?;
        Ok(composed.raw)
    }
}
