//! Mail templates, rendered with minijinja. Unknown variables are errors, so a typo in a
//! template fails loudly rather than mailing a blank.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::domain::sanitize::single_line;
use crate::error::{Error, Result};

pub const SUBJECT_MAX_CHARS: usize = 256;

/// The built-in invitation templates (minijinja source), which the console's form shows
/// for editing.
pub const INVITATION_SUBJECT: &str = include_str!("../../assets/templates/invitation_subject.txt");
pub const INVITATION_BODY: &str = include_str!("../../assets/templates/invitation_body.txt");

/// The other messages usher sends, each a subject and a body template in `assets/templates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// To the invitee, a while before the invitation expires.
    Reminder,
    /// To the inviter, when the invitee accepts or declines.
    Answered,
    /// To someone registering themselves, to prove the address.
    Registration,
}

impl Notice {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Notice::Reminder => ("reminder_subject", "reminder_body"),
            Notice::Answered => ("answered_subject", "answered_body"),
            Notice::Registration => ("registration_subject", "registration_body"),
        }
    }
}

const NOTICES: [(&str, &str); 6] = [
    (
        "reminder_subject",
        include_str!("../../assets/templates/reminder_subject.txt"),
    ),
    (
        "reminder_body",
        include_str!("../../assets/templates/reminder_body.txt"),
    ),
    (
        "answered_subject",
        include_str!("../../assets/templates/answered_subject.txt"),
    ),
    (
        "answered_body",
        include_str!("../../assets/templates/answered_body.txt"),
    ),
    (
        "registration_subject",
        include_str!("../../assets/templates/registration_subject.txt"),
    ),
    (
        "registration_body",
        include_str!("../../assets/templates/registration_body.txt"),
    ),
];

/// What an invitation template can use.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InvitationVars {
    pub org: String,
    pub inviter_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub link: String,
    /// The expiry date, for people ("2026-12-01 14:05 UTC").
    pub expires: String,
    pub validity_days: i64,
}

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

/// A rendered message: subject (one line, at most 256 characters) and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

impl Templates {
    pub fn builtin() -> Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let invitation = [
            ("invitation_subject", INVITATION_SUBJECT),
            ("invitation_body", INVITATION_BODY),
        ];
        for (name, text) in invitation.into_iter().chain(NOTICES) {
            env.add_template(name, text)
                .map_err(|e| Error::Template(format!("{name}: {e}")))?;
        }
        Ok(Self { env })
    }

    pub fn invitation(&self, vars: &InvitationVars) -> Result<Rendered> {
        self.invitation_custom(None, None, vars)
    }

    /// The invitation with this invitation's own subject and message (template source),
    /// where given, instead of the account's.
    pub fn invitation_custom(
        &self,
        subject: Option<&str>,
        body: Option<&str>,
        vars: &InvitationVars,
    ) -> Result<Rendered> {
        let subject = self.invitation_subject(subject, vars)?;
        let body = match body {
            Some(src) => self.render_source("message", src, vars)?,
            None => self.render("invitation_body", vars)?,
        };
        Ok(Rendered {
            subject,
            body: normalise_body(&body),
        })
    }

    /// One of the other messages, from whatever variables it is given.
    pub fn notice(&self, which: Notice, vars: &impl Serialize) -> Result<Rendered> {
        let (subject, body) = which.names();
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(minijinja::value::Serde(vars)))
                .map_err(|e| Error::Template(format!("{name}: {e}")))
        };
        Ok(Rendered {
            subject: clamp_subject(&render(subject)?),
            body: normalise_body(&render(body)?),
        })
    }

    /// Whether the account's subject names the recipient (so differs between the
    /// invitations of one import); when not, an import renders it once.
    pub fn subject_names_recipient(&self) -> bool {
        self.env
            .get_template("invitation_subject")
            .map_or(true, |t| {
                let used = t.undeclared_variables(true);
                ["first_name", "last_name", "email", "link"]
                    .iter()
                    .any(|v| used.contains(*v))
            })
    }

    /// The subject alone (this invitation's own, or the account's).
    pub fn invitation_subject(
        &self,
        subject: Option<&str>,
        vars: &InvitationVars,
    ) -> Result<String> {
        let s = match subject {
            Some(src) => self.render_source("subject", src, vars)?,
            None => self.render("invitation_subject", vars)?,
        };
        Ok(clamp_subject(&s))
    }

    /// Refuses a custom subject or message that would fail or that loses the link, before
    /// anything is written.
    pub fn check_custom(&self, subject: Option<&str>, body: Option<&str>) -> Result<()> {
        let sample = InvitationVars {
            org: "Example".into(),
            inviter_name: "admin@example.org".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: "ann@example.org".into(),
            link: "https://usher.example.org/enrol/SAMPLE-TOKEN".into(),
            expires: "2026-01-11 00:00 UTC".into(),
            validity_days: 10,
        };
        let r = self.invitation_custom(subject, body, &sample)?;
        if r.subject.trim().is_empty() {
            return Err(Error::Template("the subject is empty".into()));
        }
        if !r.body.contains(&sample.link) {
            return Err(Error::Template(
                "the message must contain the link: put {{ link }} in it".into(),
            ));
        }
        Ok(())
    }

    fn render_source(&self, what: &str, src: &str, vars: &InvitationVars) -> Result<String> {
        self.env
            .render_str(src, minijinja::value::Serde(vars))
            .map_err(|e| Error::Template(format!("{what}: {e}")))
    }

    fn render(&self, name: &str, vars: &InvitationVars) -> Result<String> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| Error::Template(format!("{name}: {e}")))?;
        t.render(minijinja::value::Serde(vars))
            .map_err(|e| Error::Template(format!("{name}: {e}")))
    }
}

/// One line, no control characters (so CR/LF never reach the header), at most 256 characters.
pub fn clamp_subject(s: &str) -> String {
    single_line(s).chars().take(SUBJECT_MAX_CHARS).collect()
}

/// Plain text with Unix line ends, no stray control characters other than newline and tab.
fn normalise_body(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !crate::domain::sanitize::is_unsafe_char(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_subject_is_the_same_for_every_recipient() -> Result<()> {
        let t = Templates::builtin()?;
        assert!(!t.subject_names_recipient());
        let mut env = Environment::new();
        env.add_template("invitation_subject", "Hello {{ first_name }}")
            .map_err(|e| Error::Template(e.to_string()))?;
        assert!(Templates { env }.subject_names_recipient());
        Ok(())
    }

    fn vars() -> InvitationVars {
        InvitationVars {
            org: "Acme".into(),
            inviter_name: "ops@acme.test".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: "ann@acme.test".into(),
            link: "https://u.acme.test/enrol/TOKEN".into(),
            expires: "2026-12-01 10:00 UTC".into(),
            validity_days: 10,
        }
    }

    #[test]
    fn default_invitation_names_org_inviter_link_and_expiry() -> Result<()> {
        let r = Templates::builtin()?.invitation(&vars())?;
        assert_eq!(r.subject, "ops@acme.test invites you to Acme secure mail");
        for needle in [
            "Acme",
            "ops@acme.test",
            "https://u.acme.test/enrol/TOKEN",
            "2026-12-01 10:00 UTC",
            "Hello Ann",
        ] {
            assert!(r.body.contains(needle), "{needle} missing from {}", r.body);
        }
        Ok(())
    }

    #[test]
    fn custom_text_must_keep_the_link_and_known_variables() -> Result<()> {
        let t = Templates::builtin()?;
        assert!(
            t.check_custom(Some("Join {{ org }}"), Some("Click {{ link }}"))
                .is_ok()
        );
        let e = t
            .check_custom(None, Some("No link here"))
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("{{ link }}")));
        let e = t
            .check_custom(Some("Hi {{ nmae }}"), None)
            .err()
            .map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.contains("subject")),
            "unknown variables are refused"
        );
        let r = t.invitation_custom(Some("For {{ first_name }}"), None, &vars())?;
        assert_eq!(r.subject, "For Ann");
        Ok(())
    }

    #[test]
    fn subject_is_one_clamped_line() -> Result<()> {
        let mut v = vars();
        v.org = format!("Evil\r\nBcc: x@y.z {}", "o".repeat(400));
        let r = Templates::builtin()?.invitation(&v)?;
        assert!(!r.subject.contains('\r') && !r.subject.contains('\n'));
        assert_eq!(r.subject.chars().count(), SUBJECT_MAX_CHARS);
        Ok(())
    }
}
