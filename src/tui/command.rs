//! The `:` command line (k9s): `:invite a@x.org`, `:users`, `:resend expired`, `:q`, with
//! Tab completion of command names.

use super::app::Tab;
use crate::domain::InvitationStatus;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
}

/// Every command, as completion offers it.
pub const COMMANDS: &[&str] = &[
    "invite ",
    "invitations",
    "users",
    "roles",
    "domains",
    "import",
    "resend expired",
    "report ",
    "template ",
    "filter ",
    "search ",
    "help",
    "quit",
    "q",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Quit,
    Help,
    Tab(Tab),
    Invite(String),
    ResendExpired,
    Filter(Option<InvitationStatus>),
    Search(String),
    /// `:template NAME`: the editor, on that template.
    Template(crate::mail::TemplateName),
    /// `:report users|invitations csv|xlsx PATH`
    Report {
        kind: crate::service::ReportKind,
        format: crate::report::Format,
        path: String,
    },
}

impl Parsed {
    /// The key whose permission this command needs, when it needs one.
    pub fn key_twin(&self) -> Option<super::keymap::Cmd> {
        use super::keymap::Cmd;
        match self {
            Parsed::Invite(_) => Some(Cmd::Invite),
            Parsed::Template(_) => Some(Cmd::Templates),
            Parsed::Report { .. } => Some(Cmd::Report),
            _ => None,
        }
    }
}

impl CommandLine {
    /// Completes to the longest common prefix of the commands that start with the text.
    pub fn complete(&mut self) {
        self.text = complete_from(&self.text, COMMANDS);
    }

    /// The commands that the text could still become, for the hint line.
    pub fn candidates(&self) -> Vec<&'static str> {
        COMMANDS
            .iter()
            .copied()
            .filter(|c| c.starts_with(self.text.trim_start()))
            .collect()
    }
}

/// The text completed to the longest common prefix of the candidates it starts (any
/// case); the text itself when none does.
pub fn complete_from<S: AsRef<str>>(text: &str, candidates: &[S]) -> String {
    let lower = text.to_lowercase();
    let matches: Vec<&str> = candidates
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| c.to_lowercase().starts_with(&lower))
        .collect();
    let Some(first) = matches.first() else {
        return text.to_owned();
    };
    let mut prefix: Vec<char> = first.chars().collect();
    for m in &matches[1..] {
        let n = prefix
            .iter()
            .zip(m.chars())
            .take_while(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
            .count();
        prefix.truncate(n);
    }
    if prefix.len() > text.chars().count() {
        prefix.into_iter().collect()
    } else {
        text.to_owned()
    }
}

pub fn parse(text: &str) -> Result<Parsed, String> {
    let text = text.trim();
    let (word, rest) = text
        .split_once(' ')
        .map_or((text, ""), |(w, r)| (w, r.trim()));
    Ok(match word {
        "q" | "quit" | "q!" => Parsed::Quit,
        "help" | "h" => Parsed::Help,
        "users" | "user" | "u" => Parsed::Tab(Tab::Users),
        "roles" | "role" => Parsed::Tab(Tab::Roles),
        "domains" | "domain" | "mailboxes" => Parsed::Tab(Tab::Domains),
        "import" => Parsed::Tab(Tab::Import),
        "invitations" | "inv" | "i" => Parsed::Tab(Tab::Invitations),
        "invite" => Parsed::Invite(rest.to_owned()),
        "resend" if rest == "expired" => Parsed::ResendExpired,
        "resend" => return Err("usage: :resend expired (r resends the selected rows)".into()),
        "filter" => Parsed::Filter(match rest {
            "" | "all" => None,
            s => Some(
                s.parse()
                    .map_err(|e: crate::domain::types::UnknownValue| e.to_string())?,
            ),
        }),
        "search" => Parsed::Search(rest.to_owned()),
        "template" | "templates" => Parsed::Template(if rest.is_empty() {
            crate::mail::TemplateName::Invitation
        } else {
            rest.parse()?
        }),
        "report" => {
            let usage = "usage: :report users|invitations csv|xlsx PATH";
            let mut words = rest.splitn(3, ' ');
            let (Some(kind), Some(format), Some(path)) = (words.next(), words.next(), words.next())
            else {
                return Err(usage.into());
            };
            Parsed::Report {
                kind: kind.parse().map_err(|_| usage.to_owned())?,
                format: format.parse().map_err(|_| usage.to_owned())?,
                path: path.trim().to_owned(),
            }
        }
        "" => return Err("type a command; Tab completes".into()),
        other => {
            return Err(format!(
                "unknown command ':{other}'; Tab completes, :help lists keys"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_completes() {
        assert_eq!(
            parse("invite a@x.org, b@x.org"),
            Ok(Parsed::Invite("a@x.org, b@x.org".into()))
        );
        assert_eq!(
            parse(":users".trim_start_matches(':')),
            Ok(Parsed::Tab(Tab::Users))
        );
        assert_eq!(parse("resend expired"), Ok(Parsed::ResendExpired));
        assert_eq!(
            parse("filter expired"),
            Ok(Parsed::Filter(Some(InvitationStatus::Expired)))
        );
        assert!(parse("frobnicate").is_err());
        let mut c = CommandLine { text: "res".into() };
        c.complete();
        assert_eq!(c.text, "resend expired");
        let mut c = CommandLine { text: "inv".into() };
        c.complete();
        assert_eq!(c.text, "invit", "stops where invite and invitations part");
        assert_eq!(c.candidates(), ["invite ", "invitations"]);
    }
}
