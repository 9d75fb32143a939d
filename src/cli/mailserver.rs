//! `usher mailserver ...`: the configuration that points a mail server at usher's views,
//! the PostgreSQL role it logs in as, and the check that it all answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use color_eyre::eyre::{Result, WrapErr, bail};

use usher::Usher;
use usher::mailserver::{self, DEFAULT_ROLE, DovecotVersion, ImapLogin, Layout, MailDb, Snippets};

use super::output::{JsonFlag, json, table};

#[derive(Debug, Subcommand)]
pub enum MailserverCmd {
    /// Print (or write into --dir) the configuration for a mail server to read usher's
    /// logins, domains and mailboxes
    Config(ConfigArgs),
    /// Create or update the PostgreSQL role a mail server logs in as, allowed to read the
    /// views and nothing else
    Role {
        /// The role's name
        #[arg(default_value = DEFAULT_ROLE)]
        name: String,
        /// Its password, from the first line of this file (none: the site's pg_hba.conf
        /// authenticates it otherwise, as peer or cert)
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Say whether the views answer, and with --imap try a login as a mail client would
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Server {
    Dovecot,
    Postfix,
    Stalwart,
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    pub server: Server,
    /// Write the files here (created if missing) instead of printing them; the printed
    /// form names this directory too (default /etc/dovecot/usher, /etc/postfix/usher or
    /// /etc/stalwart)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The Dovecot form: 2.3 or 2.4 (default: the installed dovecot's, else 2.4)
    #[arg(long)]
    pub dovecot_version: Option<DovecotVersion>,
    /// The PostgreSQL role the mail server logs in as (`usher mailserver role`)
    #[arg(long, default_value = DEFAULT_ROLE)]
    pub role: String,
    /// The role's password, from the first line of this file, written into the
    /// configuration
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// The system user and group that own the mailboxes (Dovecot)
    #[arg(long, default_value = "vmail")]
    pub vmail_user: String,
    #[arg(long, default_value = "vmail")]
    pub vmail_group: String,
    /// Where the homes are: ROOT/DOMAIN/LOCAL-PART (Dovecot)
    #[arg(long, default_value = "/var/vmail")]
    pub home_root: String,
    /// The mail location inside a home (Dovecot)
    #[arg(long, default_value = "maildir:~/Maildir")]
    pub mail: String,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// An IMAP server to log in to (HOST:PORT, plain IMAP: loopback or a trusted network)
    #[arg(long, requires_all = ["login", "password_file"])]
    pub imap: Option<String>,
    /// The test account's address
    #[arg(long)]
    pub login: Option<String>,
    /// The test account's password, from the first line of this file
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub out: JsonFlag,
}

/// Runs a `mailserver` command against usher's database at `database_url`.
pub async fn run(u: &Usher, database_url: &str, cmd: &MailserverCmd) -> Result<()> {
    match cmd {
        MailserverCmd::Config(a) => config(u, database_url, a).await,
        MailserverCmd::Role {
            name,
            password_file,
        } => {
            let password = password_file.as_deref().map(first_line).transpose()?;
            let created = u.create_mail_role(name, password.as_deref()).await?;
            let verb = if created { "Created" } else { "Updated" };
            println!(
                "{verb} the role {name}: it may read {} and nothing else.",
                mailserver::VIEWS.join(", ")
            );
            println!(
                "`usher mailserver config dovecot --role {name}` writes the mail server's side."
            );
            Ok(())
        }
        MailserverCmd::Check(a) => check(u, a).await,
    }
}

async fn config(u: &Usher, database_url: &str, a: &ConfigArgs) -> Result<()> {
    let password = a.password_file.as_deref().map(first_line).transpose()?;
    let schema = u.mail_schema().await?;
    let db = MailDb::from_url(database_url, &a.role, password, schema)?;
    let dir = a.dir.clone().unwrap_or_else(|| {
        PathBuf::from(match a.server {
            Server::Dovecot => "/etc/dovecot/usher",
            Server::Postfix => "/etc/postfix/usher",
            Server::Stalwart => "/etc/stalwart",
        })
    });
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let snippets = match a.server {
        Server::Dovecot => {
            let version = a.dovecot_version.unwrap_or_else(installed_dovecot);
            let layout = Layout {
                vmail_user: a.vmail_user.clone(),
                vmail_group: a.vmail_group.clone(),
                home_root: a.home_root.clone(),
                mail: a.mail.clone(),
            };
            mailserver::dovecot(&db, &layout, version, &dir)
        }
        Server::Postfix => mailserver::postfix(&db, &dir),
        Server::Stalwart => mailserver::stalwart(&db, &dir),
    };
    if a.dir.is_some() {
        write_all(&snippets)
    } else {
        print!("{}", snippets.as_one_text());
        Ok(())
    }
}

/// The installed Dovecot's form, or 2.4 where there is none to ask.
fn installed_dovecot() -> DovecotVersion {
    std::process::Command::new("dovecot")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).parse().ok())
        .unwrap_or(DovecotVersion::V24)
}

/// Writes each file readable by its owner and group only: some hold a password.
fn write_all(s: &Snippets) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(&s.dir)
        .wrap_err_with(|| format!("cannot create {}", s.dir.display()))?;
    for p in &s.parts {
        let path = s.dir.join(p.file);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o640)
                .open(&path)?;
            f.write_all(p.text.as_bytes())
        };
        write().wrap_err_with(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

async fn check(u: &Usher, a: &CheckArgs) -> Result<()> {
    let views = u.mail_views().await?;
    let imap = match (&a.imap, &a.login, &a.password_file) {
        (Some(addr), Some(login), Some(file)) => {
            let password = first_line(file)?;
            Some(mailserver::imap_login(addr, login, &password, Duration::from_secs(10)).await?)
        }
        _ => None,
    };
    if a.out.json {
        let imap = imap.as_ref().map(|i| match i {
            ImapLogin::Accepted => serde_json::json!({"accepted": true}),
            ImapLogin::Refused(why) => serde_json::json!({"accepted": false, "answer": why}),
            ImapLogin::NoInbox(why) => {
                serde_json::json!({"accepted": true, "inbox": false, "answer": why})
            }
        });
        println!(
            "{}",
            json(
                &serde_json::json!({"views": views.views, "may_login": views.may_login, "imap": imap})
            )
        );
    } else {
        let rows = views
            .views
            .iter()
            .map(|v| vec![v.view.to_owned(), v.rows.to_string()])
            .collect();
        println!("{}", table(&["view", "rows"], rows));
        println!("{} login(s) may log in to mail.", views.may_login);
    }
    match (imap, &a.login) {
        (Some(ImapLogin::Accepted), Some(login)) if !a.out.json => {
            println!("IMAP: {login} logged in and opened their inbox.");
            Ok(())
        }
        (Some(ImapLogin::Refused(why)), Some(login)) => {
            bail!("IMAP: the login of {login} was refused: {why}")
        }
        (Some(ImapLogin::NoInbox(why)), Some(login)) => bail!(
            "IMAP: {login} logged in, but their inbox would not open ({why}): check the \
             mail location and its owner (--home-root, --vmail-user, --mail)"
        ),
        _ => Ok(()),
    }
}

fn first_line(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read the password file {}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}
