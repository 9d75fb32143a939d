//! The messages usher sends, each a template an account may replace
//! (docs/rules.md#invitations): its built-in text, the variables it is given, and a sample
//! of them for the preview.

use serde_json::{Value, json};

/// One of the account's mail templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateName {
    /// To the invitee.
    Invitation,
    /// To the invitee, a while before the invitation expires.
    Reminder,
    /// To the inviter, when the invitee accepts.
    Accepted,
    /// To the inviter, when the invitee declines.
    Declined,
    /// To someone registering themselves, to prove the address.
    Registration,
    /// To a user, the link to choose a new password.
    PasswordReset,
}

impl TemplateName {
    pub const ALL: [TemplateName; 6] = [
        Self::Invitation,
        Self::Reminder,
        Self::Accepted,
        Self::Declined,
        Self::Registration,
        Self::PasswordReset,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reminder => "reminder",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Registration => "registration",
            Self::PasswordReset => "password_reset",
        }
    }

    /// What it is for, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Invitation => "the invitation, to the invitee",
            Self::Reminder => "the reminder before an invitation expires",
            Self::Accepted => "to the inviter, when an invitation is accepted",
            Self::Declined => "to the inviter, when an invitation is declined",
            Self::Registration => "the link that proves a self-registering address",
            Self::PasswordReset => "the link to choose a new password, to a user",
        }
    }

    /// The outbox's `kind` for messages from this template.
    pub fn outbox_kind(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reminder => "reminder",
            Self::Accepted | Self::Declined => "notification",
            Self::Registration => "registration",
            Self::PasswordReset => "password_reset",
        }
    }

    /// usher's own subject and body.
    pub fn builtin(self) -> (&'static str, &'static str) {
        macro_rules! t {
            ($n:literal) => {
                (
                    include_str!(concat!("../../../../assets/templates/", $n, "_subject.txt")),
                    include_str!(concat!("../../../../assets/templates/", $n, "_body.txt")),
                )
            };
        }
        match self {
            Self::Invitation => t!("invitation"),
            Self::Reminder => t!("reminder"),
            Self::Accepted => t!("accepted"),
            Self::Declined => t!("declined"),
            Self::Registration => t!("registration"),
            Self::PasswordReset => t!("password_reset"),
        }
    }

    /// A message from this template is useless without the link.
    pub fn needs_link(self) -> bool {
        matches!(
            self,
            Self::Invitation | Self::Reminder | Self::Registration | Self::PasswordReset
        )
    }

    /// The variables a template may use, with a sample of each (the editor's preview).
    pub fn sample(self) -> Value {
        match self {
            Self::Invitation | Self::Reminder => json!({
                "org": "Example Ltd",
                "inviter_name": "it-admin@example.org",
                "first_name": "Ann",
                "last_name": "Lee",
                "email": "ann.lee@example.org",
                "link": "https://usher.example.org/enrol/SAMPLE-LINK",
                "expires": "2026-12-01 14:05 UTC",
                "validity_days": 10,
            }),
            Self::Accepted | Self::Declined => json!({
                "org": "Example Ltd",
                "invitee": "Ann Lee <ann.lee@example.org>",
                "sent": "2026-11-21 09:30 UTC",
                "at": "2026-11-22 10:02 UTC",
                "grants": 2,
                "mailbox": true,
            }),
            Self::Registration => json!({
                "org": "Example Ltd",
                "email": "ann.lee@example.org",
                "link": "https://usher.example.org/register/SAMPLE-LINK",
                "expires": "2026-11-22 10:02 UTC",
            }),
            Self::PasswordReset => json!({
                "org": "Example Ltd",
                "first_name": "Ann",
                "email": "ann.lee@example.org",
                "link": "https://usher.example.org/password/reset/SAMPLE-LINK",
                "expires": "2026-11-22 10:02 UTC",
                "requested_by": "self",
                "welcome": false,
            }),
        }
    }

    /// The sample with the account's own organisation and the operator where they are
    /// known, so the editor's preview reads as the site's mail will.
    pub fn sample_for(self, org: Option<&str>, inviter: Option<&str>) -> Value {
        let mut v = self.sample();
        if let Value::Object(m) = &mut v {
            if let Some(org) = org.filter(|o| !o.is_empty()) {
                m.insert("org".into(), Value::from(org));
            }
            if let Some(who) = inviter.filter(|w| !w.is_empty())
                && m.contains_key("inviter_name")
            {
                m.insert("inviter_name".into(), Value::from(who));
            }
        }
        v
    }

    /// The variables, for the editor's hint line.
    pub fn variables(self) -> Vec<String> {
        match self.sample() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl std::str::FromStr for TemplateName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.key() == s).ok_or_else(|| {
            format!(
                "'{s}' is not a template: {}",
                Self::ALL.map(|t| t.key()).join(", ")
            )
        })
    }
}

impl std::fmt::Display for TemplateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}
