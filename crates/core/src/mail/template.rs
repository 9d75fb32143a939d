//! Mail templates, rendered with minijinja. Unknown variables are errors, so a typo in a
//! template fails loudly rather than mailing a blank.

use std::collections::HashMap;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::domain::sanitize::single_line;
use crate::error::{Error, Result};
use crate::store::StoredTemplate;

pub const SUBJECT_MAX_CHARS: usize = 256;

pub use super::catalog::TemplateName;

/// The built-in invitation templates (minijinja source), which the console's form shows
/// for editing.
pub const INVITATION_SUBJECT: &str =
    include_str!("../../../../assets/templates/invitation_subject.txt");
pub const INVITATION_BODY: &str = include_str!("../../../../assets/templates/invitation_body.txt");

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

/// An account's templates: usher's own, with whatever the account saved in their place.
#[derive(Debug, Clone)]
pub struct Templates {
    env: Environment<'static>,
    /// The saved version in force of each replaced template (for drafts to name).
    versions: HashMap<TemplateName, i64>,
    /// Templates with an HTML alternative.
    html: Vec<TemplateName>,
}

/// A rendered message: subject (one line, at most 256 characters), plain-text body, and
/// the HTML alternative when the account gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

fn names(t: TemplateName) -> (String, String, String) {
    let k = t.key();
    (
        format!("{k}_subject"),
        format!("{k}_body"),
        format!("{k}_html.html"),
    )
}

fn strict_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

impl Templates {
    pub fn builtin() -> Result<Self> {
        let mut env = strict_env();
        for t in TemplateName::ALL {
            let (subject, body) = t.builtin();
            let (sn, bn, _) = names(t);
            for (name, text) in [(sn, subject), (bn, body)] {
                env.add_template_owned(name.clone(), text)
                    .map_err(|e| Error::Template(format!("{name}: {e}")))?;
            }
        }
        Ok(Self {
            env,
            versions: HashMap::new(),
            html: Vec::new(),
        })
    }

    /// usher's own templates with the account's saved versions in their place.
    pub fn with_account(&self, saved: &[StoredTemplate]) -> Result<Self> {
        let mut out = self.clone();
        for s in saved {
            let Ok(t) = s.name.parse::<TemplateName>() else {
                continue;
            };
            if s.builtin {
                continue;
            }
            let (sn, bn, hn) = names(t);
            for (name, text) in [(sn, &s.subject), (bn, &s.body)] {
                out.env
                    .add_template_owned(name.clone(), text.clone())
                    .map_err(|e| Error::Template(format!("{name}: {e}")))?;
            }
            if let Some(h) = &s.html {
                out.env
                    .add_template_owned(hn.clone(), h.clone())
                    .map_err(|e| Error::Template(format!("{hn}: {e}")))?;
                out.html.push(t);
            }
            out.versions.insert(t, s.id);
        }
        Ok(out)
    }

    /// The saved version in force for a template, if the account replaced it.
    pub fn version(&self, t: TemplateName) -> Option<i64> {
        self.versions.get(&t).copied()
    }

    /// The source in force (subject, body, HTML), for the editor.
    pub fn source(&self, t: TemplateName) -> (String, String, Option<String>) {
        let (sn, bn, hn) = names(t);
        let get = |n: &str| self.env.get_template(n).ok().map(|t| t.source().to_owned());
        (
            get(&sn).unwrap_or_default(),
            get(&bn).unwrap_or_default(),
            self.html.contains(&t).then(|| get(&hn)).flatten(),
        )
    }

    /// A message from one of the templates.
    pub fn render(&self, t: TemplateName, vars: &impl Serialize) -> Result<Rendered> {
        let (sn, bn, hn) = names(t);
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(minijinja::value::Serde(vars)))
                .map_err(|e| Error::Template(format!("{name}: {e}")))
        };
        Ok(Rendered {
            subject: clamp_subject(&render(&sn)?),
            body: normalise_body(&render(&bn)?),
            html: if self.html.contains(&t) {
                Some(render(&hn)?)
            } else {
                None
            },
        })
    }

    pub fn invitation(&self, vars: &InvitationVars) -> Result<Rendered> {
        self.invitation_custom(None, None, vars)
    }

    /// The invitation with this invitation's own subject and message (template source),
    /// where given, instead of the account's. A message of its own has no HTML part.
    pub fn invitation_custom(
        &self,
        subject: Option<&str>,
        body: Option<&str>,
        vars: &InvitationVars,
    ) -> Result<Rendered> {
        let mut r = self.render(TemplateName::Invitation, vars)?;
        if let Some(src) = subject {
            r.subject = clamp_subject(&self.render_source("subject", src, vars)?);
        }
        if let Some(src) = body {
            r.body = normalise_body(&self.render_source("message", src, vars)?);
            r.html = None;
        }
        Ok(r)
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
            None => {
                let t = self
                    .env
                    .get_template("invitation_subject")
                    .map_err(|e| Error::Template(e.to_string()))?;
                t.render(minijinja::value::Serde(vars))
                    .map_err(|e| Error::Template(format!("invitation_subject: {e}")))?
            }
        };
        Ok(clamp_subject(&s))
    }

    /// Refuses a custom subject or message that would fail or that loses the link, before
    /// anything is written.
    pub fn check_custom(&self, subject: Option<&str>, body: Option<&str>) -> Result<()> {
        let (s, b, _) = self.source(TemplateName::Invitation);
        check(
            TemplateName::Invitation,
            subject.unwrap_or(&s),
            body.unwrap_or(&b),
            None,
        )
        .map(|_| ())
    }

    fn render_source(&self, what: &str, src: &str, vars: &InvitationVars) -> Result<String> {
        self.env
            .render_str(src, minijinja::value::Serde(vars))
            .map_err(|e| Error::Template(format!("{what}: {e}")))
    }
}

/// Checks a template before it is saved: each part compiles, uses only the template's
/// variables, renders with the sample, gives a subject of one non-empty line within 256
/// characters, and (for a message that carries a link) has the link in the body and in
/// the HTML part. Returns the sample rendering, for the preview.
pub fn check(t: TemplateName, subject: &str, body: &str, html: Option<&str>) -> Result<Rendered> {
    check_with(t, subject, body, html, &t.sample())
}

/// `check`, rendering with the values given (the editor's preview uses the account's).
pub fn check_with(
    t: TemplateName,
    subject: &str,
    body: &str,
    html: Option<&str>,
    sample: &serde_json::Value,
) -> Result<Rendered> {
    if subject.chars().count() > SUBJECT_MAX_CHARS {
        return Err(Error::Template(format!(
            "the subject is over {SUBJECT_MAX_CHARS} characters"
        )));
    }
    let known = t.variables();
    let mut env = strict_env();
    let parts = [
        ("subject", "subject".to_owned(), Some(subject)),
        ("body", "body".to_owned(), Some(body)),
        ("HTML part", "html.html".to_owned(), html),
    ];
    let mut out = Vec::new();
    for (what, name, src) in parts {
        let Some(src) = src else {
            out.push(None);
            continue;
        };
        env.add_template_owned(name.clone(), src.to_owned())
            .map_err(|e| Error::Template(format!("{what}: {e}")))?;
        let tpl = env
            .get_template(&name)
            .map_err(|e| Error::Template(format!("{what}: {e}")))?;
        let mut unknown: Vec<String> = tpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !known.contains(v))
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            return Err(Error::Template(format!(
                "{what}: unknown variable{} {} (this template knows {})",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", "),
                known.join(", ")
            )));
        }
        let text = tpl
            .render(minijinja::value::Serde(sample))
            .map_err(|e| Error::Template(format!("{what}: {e}")))?;
        out.push(Some(text));
    }
    let subject = clamp_subject(out[0].as_deref().unwrap_or_default());
    if subject.trim().is_empty() {
        return Err(Error::Template("the subject is empty".into()));
    }
    let body = normalise_body(out[1].as_deref().unwrap_or_default());
    let html = out[2].clone();
    if t.needs_link() {
        let link = sample["link"].as_str().unwrap_or_default();
        if !body.contains(link) {
            return Err(Error::Template(
                "the message must contain the link: put {{ link }} in it".into(),
            ));
        }
        // In HTML the link arrives escaped (`/` as `&#x2f;`), which browsers read back.
        let escaped = env
            .render_named_str("link.html", "{{ link }}", minijinja::value::Serde(sample))
            .unwrap_or_default();
        if html
            .as_deref()
            .is_some_and(|h| !h.contains(link) && !h.contains(&escaped))
        {
            return Err(Error::Template(
                "the HTML part must contain the link: put {{ link }} in it".into(),
            ));
        }
    }
    Ok(Rendered {
        subject,
        body,
        html,
    })
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
        assert!(
            Templates {
                env,
                versions: HashMap::new(),
                html: Vec::new()
            }
            .subject_names_recipient()
        );
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
