//! What usher gives a mail server: the configuration that points Dovecot, Postfix and
//! Stalwart at its views (docs/mailserver.md), written as text for the site to install.
//! Nothing here touches the database; the store's `mailserver` part does.

mod dovecot;
mod imap;
mod model;
mod postfix;
mod stalwart;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use model::{
    ALIASES, DEFAULT_ROLE, DOMAINS, DovecotVersion, LOGINS, Layout, MAILBOXES, MailDb, Part,
    SEND_AS, VIEWS,
};

pub use imap::{ImapLogin, imap_login};
pub use stalwart::queries as stalwart_queries;

/// A mail server's configuration: the files to install in `dir`. The first is the one a
/// site includes (Dovecot's `!include`, Postfix's main.cf lines, Stalwart's TOML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippets {
    pub dir: PathBuf,
    pub parts: Vec<Part>,
}

impl Snippets {
    /// Everything as one text: the first file as it is, the others after it as comments
    /// that name where they go, so the whole stays valid where the first is included.
    pub fn as_one_text(&self) -> String {
        let mut out = self
            .parts
            .first()
            .map(|p| p.text.clone())
            .unwrap_or_default();
        for p in self.parts.iter().skip(1) {
            let _ = writeln!(
                out,
                "\n# ---- {} (usher writes it with --dir) ----",
                self.dir.join(p.file).display()
            );
            for line in p.text.lines() {
                let _ = writeln!(out, "# {line}");
            }
        }
        out
    }
}

pub fn dovecot(db: &MailDb, layout: &Layout, version: DovecotVersion, dir: &Path) -> Snippets {
    Snippets {
        dir: dir.to_owned(),
        parts: dovecot::parts(db, layout, version, dir),
    }
}

pub fn postfix(db: &MailDb, dir: &Path) -> Snippets {
    Snippets {
        dir: dir.to_owned(),
        parts: postfix::parts(db, dir),
    }
}

pub fn stalwart(db: &MailDb, dir: &Path) -> Snippets {
    Snippets {
        dir: dir.to_owned(),
        parts: stalwart::parts(db),
    }
}

#[cfg(test)]
mod tests;
