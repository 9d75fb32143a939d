//! The one-line prompts an action asks for (what to grant, a domain's name, a reason),
//! with their labels, hints and Tab completion.

use super::tabs::domains::DomainsTab;
use super::tabs::roles::RolesTab;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// ROLE|PERMISSION [on MAILBOX], for this user.
    Grant {
        user_id: i64,
        email: String,
    },
    /// One of the user's grants, as the detail lists them.
    Revoke {
        user_id: i64,
        email: String,
        held: Vec<String>,
    },
    AddDomain,
    /// Why the domain is vouched for by hand.
    VerifyManually {
        name: String,
    },
    /// ADDRESS NAME of a shared mailbox.
    NewMailbox,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

impl Prompt {
    pub fn label(&self) -> String {
        match &self.kind {
            PromptKind::Grant { email, .. } => format!("grant to {email}: "),
            PromptKind::Revoke { email, .. } => format!("revoke from {email}: "),
            PromptKind::AddDomain => "add domain: ".into(),
            PromptKind::VerifyManually { name } => format!("verify {name} by hand, reason: "),
            PromptKind::NewMailbox => "new shared mailbox: ".into(),
        }
    }

    pub fn hint(&self) -> &'static str {
        match &self.kind {
            PromptKind::Grant { .. } => "ROLE or PERMISSION [on MAILBOX]; tab completes",
            PromptKind::Revoke { .. } => "tab cycles through the user's grants",
            PromptKind::AddDomain => "example.org",
            PromptKind::VerifyManually { .. } => "kept in the audit log",
            PromptKind::NewMailbox => "ADDRESS NAME, e.g. sales@example.org Sales team",
        }
    }
}

/// "Editor on sales@x.org" -> ("Editor", Some("sales@x.org")).
pub fn split_grant(text: &str) -> (String, Option<String>) {
    match text.trim().rsplit_once(" on ") {
        Some((what, mb)) if !mb.trim().is_empty() => {
            (what.trim().to_owned(), Some(mb.trim().to_owned()))
        }
        _ => (text.trim().to_owned(), None),
    }
}

/// What Tab may complete a prompt to: role names and permission keys, then, after
/// " on ", the account's mailboxes.
pub fn candidates(p: &Prompt, roles: &RolesTab, domains: &DomainsTab) -> Vec<String> {
    match &p.kind {
        PromptKind::Grant { .. } => match p.text.rsplit_once(" on ") {
            Some((what, _)) => domains
                .mailboxes
                .iter()
                .map(|m| format!("{what} on {}", m.address))
                .collect(),
            None => roles
                .rows
                .iter()
                .map(|r| r.role.name.clone())
                .chain(
                    usher_core::domain::Permission::ALL
                        .iter()
                        .map(|p| p.key().to_owned()),
                )
                .collect(),
        },
        _ => Vec::new(),
    }
}
