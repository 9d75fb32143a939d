//! The `:` command line (k9s): `:invite a@x.org`, `:users`, `:resend expired`, `:q`. One
//! table, `SPECS`, says each command's name, aliases, arguments and what completes them;
//! parsing, Tab completion, the hint line and the help all read it.

use super::complete::complete_from;
use super::tabs::Tab;
use usher_core::domain::InvitationStatus;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
}

/// What completes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    /// Free text (addresses, a search): nothing to offer.
    Text,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A file path (`~` is the home directory).
    Path,
}

#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub complete: Complete,
    pub optional: bool,
}

/// A command: its name, aliases, arguments in order, what it does, and how its
/// arguments become a `Parsed` (they arrive checked against their words).
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static [Arg],
    pub help: &'static str,
    build: fn(&[&str], &str) -> Result<Parsed, String>,
}

const STATUSES: &[&str] = &[
    "all", "pending", "expired", "accepted", "declined", "revoked",
];
const TEMPLATES: &[&str] = &[
    "invitation",
    "reminder",
    "accepted",
    "declined",
    "registration",
    "password_reset",
];
const REPORTS: &[&str] = &["users", "invitations"];
const FORMATS: &[&str] = &["csv", "xlsx"];

const fn arg(name: &'static str, complete: Complete) -> Arg {
    Arg {
        name,
        complete,
        optional: false,
    }
}

const fn optional(name: &'static str, complete: Complete) -> Arg {
    Arg {
        name,
        complete,
        optional: true,
    }
}

fn tab(t: Tab) -> Result<Parsed, String> {
    Ok(Parsed::Tab(t))
}

/// Every command, in the order the help lists them.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "invite",
        aliases: &[],
        args: &[optional("ADDRESSES", Complete::Text)],
        help: "open the invite form, addresses filled in",
        build: |_, rest| Ok(Parsed::Invite(rest.to_owned())),
    },
    Spec {
        name: "invitations",
        aliases: &["inv", "i"],
        args: &[],
        help: "the Invitations tab",
        build: |_, _| tab(Tab::Invitations),
    },
    Spec {
        name: "users",
        aliases: &["user", "u"],
        args: &[],
        help: "the Users tab",
        build: |_, _| tab(Tab::Users),
    },
    Spec {
        name: "import",
        aliases: &[],
        args: &[],
        help: "the Import tab",
        build: |_, _| tab(Tab::Import),
    },
    Spec {
        name: "roles",
        aliases: &["role"],
        args: &[],
        help: "the Roles tab",
        build: |_, _| tab(Tab::Roles),
    },
    Spec {
        name: "domains",
        aliases: &["domain", "mailboxes"],
        args: &[],
        help: "the Domains tab",
        build: |_, _| tab(Tab::Domains),
    },
    Spec {
        name: "sync",
        aliases: &["directory", "ldap"],
        args: &[],
        help: "the Sync tab: directory sources, their runs, a run waiting for approval",
        build: |_, _| tab(Tab::Sync),
    },
    Spec {
        name: "resend",
        aliases: &[],
        args: &[arg("expired", Complete::Words(&["expired"]))],
        help: "resend every expired invitation (asks first; r resends the selected)",
        build: |_, _| Ok(Parsed::ResendExpired),
    },
    Spec {
        name: "filter",
        aliases: &[],
        args: &[optional("STATUS", Complete::Words(STATUSES))],
        help: "show the invitations of one status (all: every one)",
        build: |a, _| {
            Ok(Parsed::Filter(match a.first().copied() {
                None | Some("all") => None,
                Some(s) => Some(s.parse().map_err(|_| format!("'{s}' is not a status"))?),
            }))
        },
    },
    Spec {
        name: "search",
        aliases: &[],
        args: &[optional("TEXT", Complete::Text)],
        help: "search the tab (as / does)",
        build: |_, rest| Ok(Parsed::Search(rest.to_owned())),
    },
    Spec {
        name: "template",
        aliases: &["templates"],
        args: &[optional("NAME", Complete::Words(TEMPLATES))],
        help: "edit a mail template (invitation by default)",
        build: |a, _| {
            Ok(Parsed::Template(match a.first() {
                None => usher_core::mail::TemplateName::Invitation,
                Some(n) => n.parse()?,
            }))
        },
    },
    Spec {
        name: "report",
        aliases: &[],
        args: &[
            arg("KIND", Complete::Words(REPORTS)),
            arg("FORMAT", Complete::Words(FORMATS)),
            arg("PATH", Complete::Path),
        ],
        help: "write the users or invitations report to a file",
        build: |a, _| match a {
            [kind, format, path @ ..] if !path.is_empty() => Ok(Parsed::Report {
                kind: kind.parse().map_err(|e: usher_core::Error| e.to_string())?,
                format: format
                    .parse()
                    .map_err(|e: usher_core::Error| e.to_string())?,
                path: path.join(" "),
            }),
            _ => Err(String::new()),
        },
    },
    Spec {
        name: "help",
        aliases: &["h"],
        args: &[],
        help: "the keys and these commands",
        build: |_, _| Ok(Parsed::Help),
    },
    Spec {
        name: "quit",
        aliases: &["q", "q!"],
        args: &[],
        help: "leave usher",
        build: |_, _| Ok(Parsed::Quit),
    },
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
    Template(usher_core::mail::TemplateName),
    /// `:report users|invitations csv|xlsx PATH`
    Report {
        kind: usher_core::service::ReportKind,
        format: usher_core::report::Format,
        path: String,
    },
}

impl Parsed {
    /// The key whose permission this command needs, when it needs one.
    pub fn key_twin(&self) -> Option<super::keymap::Cmd> {
        use super::keymap::Cmd;
        match self {
            Parsed::Invite(_) => Some(Cmd::Invite),
            Parsed::ResendExpired => Some(Cmd::ResendExpired),
            Parsed::Template(_) => Some(Cmd::Templates),
            Parsed::Report { .. } => Some(Cmd::Report),
            _ => None,
        }
    }
}

impl Spec {
    /// `report KIND FORMAT PATH`, for the help and error messages.
    pub fn usage(&self) -> String {
        let mut u = self.name.to_owned();
        for a in self.args {
            u.push(' ');
            if a.optional {
                u.push_str(&format!("[{}]", a.name));
            } else {
                u.push_str(a.name);
            }
        }
        u
    }

    fn named(&self, word: &str) -> bool {
        self.name == word || self.aliases.contains(&word)
    }
}

fn find(word: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.named(word))
}

/// The command's name, the words after it, and everything after the name as typed.
fn split(text: &str) -> (&str, Vec<&str>, &str) {
    let text = text.trim_start();
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    (word, rest.split_whitespace().collect(), rest.trim())
}

pub fn parse(text: &str) -> Result<Parsed, String> {
    let (word, args, rest) = split(text.trim());
    if word.is_empty() {
        return Err("type a command; Tab completes, :help lists them".into());
    }
    let spec = find(word).ok_or_else(|| {
        format!("unknown command ':{word}'; Tab completes, :help lists the commands")
    })?;
    let usage = || format!("usage: :{}", spec.usage());
    // Words are checked against the table, so every command's message is the same.
    for (a, given) in spec.args.iter().zip(&args) {
        if let Complete::Words(words) = a.complete
            && !words.contains(given)
        {
            return Err(format!(
                "'{given}' is not a {}: {}",
                a.name.to_lowercase(),
                words.join(", ")
            ));
        }
    }
    let needed = spec.args.iter().filter(|a| !a.optional).count();
    if args.len() < needed {
        return Err(usage());
    }
    (spec.build)(&args, rest).map_err(|e| {
        if e.is_empty() {
            usage()
        } else {
            format!("{e} ({})", usage())
        }
    })
}

impl CommandLine {
    /// Completes the word being typed: a command's name, or its argument from the
    /// table (words, or a path), to the longest prefix the candidates share.
    pub fn complete(&mut self) {
        let (done, word, cands) = self.completing();
        let completed = match cands {
            Cands::Words(c) => complete_from(word, &c),
            Cands::Path => super::complete::complete_path(word),
        };
        self.text = format!("{done}{completed}");
        // A single whole match moves on to the next argument, if there is one.
        if let (done, w, Cands::Words(c)) = self.completing()
            && c.len() == 1
            && c[0] == w
        {
            let (name, args, _) = split(done);
            let next = if done.trim().is_empty() {
                find(w).map(|s| s.args.first())
            } else {
                find(name).map(|s| s.args.get(args.len() + 1))
            };
            if next.flatten().is_some() {
                self.text.push(' ');
            }
        }
    }

    /// What the word being typed could become, for the hint line.
    pub fn candidates(&self) -> Vec<String> {
        match self.completing() {
            (_, _, Cands::Words(c)) => c,
            (_, _, Cands::Path) => Vec::new(),
        }
    }

    /// The text before the word being typed, that word, and its candidates.
    fn completing(&self) -> (&str, &str, Cands) {
        let text = self.text.trim_start();
        let lead = &self.text[..self.text.len() - text.len()];
        let at = text.rfind(' ').map_or(0, |i| i + 1);
        let (before, word) = text.split_at(at);
        let done = &self.text[..lead.len() + before.len()];
        if before.is_empty() {
            let names = SPECS
                .iter()
                .map(|s| s.name.to_owned())
                .filter(|n| n.starts_with(word))
                .collect();
            return (done, word, Cands::Words(names));
        }
        let (name, args, _) = split(before);
        let index = args.len();
        let complete = find(name)
            .and_then(|s| s.args.get(index))
            .map_or(Complete::Text, |a| a.complete);
        let cands = match complete {
            Complete::Text => Cands::Words(Vec::new()),
            Complete::Path => Cands::Path,
            Complete::Words(w) => Cands::Words(
                w.iter()
                    .filter(|c| c.starts_with(word))
                    .map(|c| (*c).to_owned())
                    .collect(),
            ),
        };
        (done, word, cands)
    }
}

enum Cands {
    Words(Vec<String>),
    Path,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(text: &str) -> String {
        let mut c = CommandLine { text: text.into() };
        c.complete();
        c.text
    }

    #[test]
    fn parses_from_the_table() {
        assert_eq!(
            parse("invite a@x.org, b@x.org"),
            Ok(Parsed::Invite("a@x.org, b@x.org".into()))
        );
        assert_eq!(parse("users"), Ok(Parsed::Tab(Tab::Users)));
        assert_eq!(parse("u"), Ok(Parsed::Tab(Tab::Users)));
        assert_eq!(parse("resend expired"), Ok(Parsed::ResendExpired));
        assert_eq!(
            parse("filter expired"),
            Ok(Parsed::Filter(Some(InvitationStatus::Expired)))
        );
        assert_eq!(parse("filter"), Ok(Parsed::Filter(None)));
        assert!(parse("frobnicate").is_err());
        let e = parse("filter bogus").err().unwrap_or_default();
        assert!(e.contains("'bogus' is not a status: all, pending"), "{e}");
        assert!(!e.contains("InvitationStatus"), "{e}");
        let e = parse("report users").err().unwrap_or_default();
        assert_eq!(e, "usage: :report KIND FORMAT PATH");
        assert!(matches!(
            parse("report users csv ~/my report.csv"),
            Ok(Parsed::Report { path, .. }) if path == "~/my report.csv"
        ));
    }

    #[test]
    fn completes_names_and_arguments() {
        assert_eq!(completed("res"), "resend ");
        assert_eq!(completed("resend "), "resend expired");
        assert_eq!(
            completed("inv"),
            "invit",
            "stops where invite and invitations part"
        );
        assert_eq!(completed("filter "), "filter ");
        assert_eq!(completed("filter ex"), "filter expired");
        assert_eq!(completed("report "), "report ");
        assert_eq!(completed("report u"), "report users ");
        assert_eq!(completed("report users x"), "report users xlsx ");
        assert_eq!(completed("template r"), "template re");
        let c = CommandLine {
            text: "filter ".into(),
        };
        assert_eq!(c.candidates(), STATUSES);
        let c = CommandLine { text: "".into() };
        assert_eq!(
            c.candidates().len(),
            SPECS.len(),
            "an empty : offers every command"
        );
        let c = CommandLine { text: "inv".into() };
        assert_eq!(c.candidates(), ["invite", "invitations"]);
    }

    #[test]
    fn the_table_names_every_template() {
        let keys: Vec<&str> = usher_core::mail::TemplateName::ALL
            .iter()
            .map(|t| t.key())
            .collect();
        assert_eq!(TEMPLATES, keys.as_slice());
    }
}
