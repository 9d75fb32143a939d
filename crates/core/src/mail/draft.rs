//! Messages queued as drafts and rendered when the sender claims them.
//!
//! Composing a message costs tens of microseconds and a couple of kilobytes; for an import
//! of a million invitations that is most of the time and gigabytes of outbox. A draft keeps
//! only the template's variables; the Message-ID and date are fixed when it is queued, so
//! the message rendered at the first attempt and at any retry is the same.
//!
//! An import's drafts keep less still: the invitee's names and token (`BulkDraft`), with
//! what they all share stored once (`DraftBase`) and the address taken from the envelope.

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

/// What the drafts of one import share, stored once (`draft_bases`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DraftBase {
    /// Every variable but the invitee's own (names, address, link), left empty here.
    pub vars: InvitationVars,
    /// The link up to its token.
    pub link: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<i64>,
}

/// One invitee's draft in an import: the rest is in its base, and the address is the
/// message's envelope recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkDraft {
    pub base: i64,
    pub first_name: String,
    pub last_name: String,
    pub token: String,
}

impl DraftBase {
    /// The whole draft, as it would have been stored on its own.
    pub fn expand(&self, d: BulkDraft, to: &str) -> Draft {
        Draft {
            to_name: format!("{} {}", d.first_name, d.last_name)
                .trim()
                .to_owned(),
            to: to.to_owned(),
            vars: InvitationVars {
                first_name: d.first_name,
                last_name: d.last_name,
                email: to.to_owned(),
                link: format!("{}{}", self.link, d.token),
                ..self.vars.clone()
            },
            subject: None,
            message: None,
            template: self.template,
        }
    }
}

/// A draft as stored: whole (queued before draft bases existed), or an import's.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StoredDraft {
    Whole(Box<Draft>),
    Bulk(BulkDraft),
}

impl StoredDraft {
    pub fn parse(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| Error::Draft(format!("unreadable draft: {e}")))
    }
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

    /// The sender's address: the envelope's and the Message-IDs' domain.
    pub fn from(&self) -> &Mailbox {
        &self.from
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

    /// The message as it is sent.
    pub fn render(&self, d: &Draft, message_id: &str, date: Timestamp) -> Result<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Result<Renderer> {
        let from: Mailbox = "Usher <usher@acme.test>"
            .parse()
            .map_err(|e| Error::Message(format!("{e}")))?;
        Ok(Renderer::new(Arc::new(Templates::builtin()?), from))
    }

    /// A draft as usher stored every one before migration 14 (draft bases).
    const WHOLE: &str = r#"{"to_name":"Ann Lee","to":"ann@acme.test","vars":{"org":"Acme","inviter_name":"admin@acme.test","first_name":"Ann","last_name":"Lee","email":"ann@acme.test","link":"https://usher.acme.test/enrol/abc","expires":"2026-12-01 14:05 UTC","validity_days":10}}"#;

    #[test]
    fn an_import_draft_renders_as_its_whole_form_did() -> Result<()> {
        let StoredDraft::Whole(whole) = StoredDraft::parse(WHOLE)? else {
            return Err(Error::Draft("a whole draft is not read as one".into()));
        };
        let base = DraftBase {
            vars: InvitationVars {
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                link: String::new(),
                ..whole.vars.clone()
            },
            link: "https://usher.acme.test/enrol/".into(),
            template: None,
        };
        let bulk = BulkDraft {
            base: 7,
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            token: "abc".into(),
        };
        let json = serde_json::to_string(&bulk).map_err(|e| Error::corrupt("a draft", e))?;
        assert!(json.len() < WHOLE.len() / 2, "{json}");
        let StoredDraft::Bulk(stored) = StoredDraft::parse(&json)? else {
            return Err(Error::Draft(format!(
                "an import's draft is not read as one: {json}"
            )));
        };
        assert_eq!(stored.base, 7);
        let r = renderer()?;
        let at = Timestamp(1_780_000_000_000);
        let expanded = r.render(&base.expand(stored, "ann@acme.test"), "<m@acme.test>", at)?;
        assert_eq!(expanded, r.render(&whole, "<m@acme.test>", at)?);
        let text = String::from_utf8_lossy(&expanded);
        assert!(text.contains("https://usher.acme.test/enrol/abc"), "{text}");
        Ok(())
    }

    #[test]
    fn a_draft_in_neither_form_is_refused() {
        let e = StoredDraft::parse(r#"{"to":"ann@acme.test"}"#);
        assert!(matches!(e, Err(Error::Draft(m)) if m.contains("unreadable draft")));
    }
}
