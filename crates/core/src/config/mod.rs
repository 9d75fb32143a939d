//! Configuration: a TOML file found with `directories` (or `--config` / `USHER_CONFIG`),
//! `USHER_*` environment overrides, and secrets from the environment or a `*_file` key.
//! With no file at all usher runs on a SQLite file and a mail spool in the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod env;
mod error;
mod mailserver;
mod serve;
mod sync;
pub use env::{Env, ProcessEnv};
pub use error::ConfigError;
pub use mailserver::{AfterChange, LOGIN as AFTER_CHANGE_LOGIN};
pub use serve::ServeConfig;
pub use sync::{Attributes, Create, GroupRole, Kind, Leavers, Limit, Limits, SyncSource};

/// The config's secrets are the domain's (`domain::Secret`), re-exported where callers
/// have long found them.
pub use crate::domain::Secret;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    database_password_file: Option<PathBuf>,
    operator: Option<String>,
    account: Option<String>,
    public_url: Option<String>,
    /// Name servers for domain verification ("10.0.0.53" or "10.0.0.53:5353").
    #[serde(default)]
    dns_servers: Vec<String>,
    #[serde(default)]
    mail: FileMail,
    #[serde(default)]
    console: FileConsole,
    #[serde(default)]
    serve: serve::FileServe,
    #[serde(default)]
    mailserver: mailserver::FileMailserver,
    #[serde(default)]
    sync: sync::FileSync,
    #[serde(default)]
    audit: FileAudit,
    /// Key overrides: [keys.<context>] "<key>" = "<command>".
    #[serde(default)]
    keys: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAudit {
    key_file: Option<PathBuf>,
    anchor_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConsole {
    send_mail: Option<bool>,
    refresh_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMail {
    transport: Option<Transport>,
    from: Option<String>,
    from_name: Option<String>,
    spool_dir: Option<PathBuf>,
    sendmail_command: Option<String>,
    concurrency: Option<usize>,
    rate_per_second: Option<u32>,
    max_attempts: Option<u32>,
    retry_base_seconds: Option<u64>,
    lease_seconds: Option<u64>,
    batch_size: Option<usize>,
    attachment_max_kib: Option<usize>,
    #[serde(default)]
    smtp: FileSmtp,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<Tls>,
    username: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    timeout_seconds: Option<u64>,
    hello_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Spool,
    Smtp,
    Sendmail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    Starttls,
    Tls,
    None,
}

/// The fully resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_password: Option<Secret>,
    pub operator: Option<String>,
    pub account: Option<String>,
    pub public_url: String,
    /// Empty: the system's resolvers.
    pub dns_servers: Vec<std::net::SocketAddr>,
    pub mail: MailConfig,
    pub console: ConsoleConfig,
    pub serve: ServeConfig,
    /// What runs after a change the mail server must see at once.
    pub after_change: AfterChange,
    /// The directories usher follows (`[[sync.source]]`).
    pub sync: Vec<SyncSource>,
    pub audit: AuditConfig,
    /// Key overrides for the console, checked when it starts.
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
}

/// The audit chain's anchor outside the database (docs/audit.md#the-anchor).
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The MAC key, made (mode 0600) where there is none; a process that cannot read it
    /// does not anchor.
    pub key_file: PathBuf,
    /// The signed head of the chain, rewritten after each change.
    pub anchor_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Run the mail sender while the console is open.
    pub send_mail: bool,
    /// How often the console reloads, to show other admins' changes.
    pub refresh_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: String,
    pub from_name: Option<String>,
    pub spool_dir: PathBuf,
    pub sendmail_command: String,
    pub concurrency: usize,
    pub rate_per_second: Option<u32>,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub lease_seconds: u64,
    pub batch_size: usize,
    /// The files attached to one invitation, in KiB in all.
    pub attachment_max_kib: usize,
    pub smtp: SmtpConfig,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub timeout_seconds: u64,
    pub hello_name: Option<String>,
}

/// What the command line (or its environment twins) may override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "usher")
}

/// Where usher looks for its config file when none is named.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    pub fn load(over: &Overrides, env: &dyn Env) -> Result<Self, ConfigError> {
        let named = over
            .config
            .clone()
            .or_else(|| env.get("USHER_CONFIG").map(PathBuf::from));
        let (file, parsed) = match named {
            // A file the operator named must exist.
            Some(path) => {
                let parsed = read_file(&path)?;
                (Some(path), parsed)
            }
            None => match default_config_path().filter(|p| p.exists()) {
                Some(path) => {
                    let parsed = read_file(&path)?;
                    (Some(path), parsed)
                }
                None => (None, FileConfig::default()),
            },
        };
        Self::resolve(file, parsed, over, env)
    }

    /// Parses config text; for tests and `usher config check`.
    pub fn from_toml(text: &str, over: &Overrides, env: &dyn Env) -> Result<Self, ConfigError> {
        let parsed = parse_text(text, Path::new("<text>"))?;
        Self::resolve(None, parsed, over, env)
    }

    fn resolve(
        file: Option<PathBuf>,
        f: FileConfig,
        over: &Overrides,
        env: &dyn Env,
    ) -> Result<Self, ConfigError> {
        let data_dir = match env.get("USHER_DATA_DIR") {
            Some(d) => PathBuf::from(d),
            None => project_dirs()
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(ConfigError::NoDataDir)?,
        };
        let database_url = over
            .database_url
            .clone()
            .or_else(|| env.get("USHER_DATABASE_URL"))
            .or(f.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("usher.db").display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError::Value {
                key: "database_url",
                reason: "must start with sqlite:// or postgres://".into(),
            });
        }
        let database_password = secret(
            env,
            "USHER_DATABASE_PASSWORD",
            "database_password_file",
            f.database_password_file.as_deref(),
        )?;
        let public_url = env
            .get("USHER_PUBLIC_URL")
            .or(f.public_url)
            .unwrap_or_else(|| "http://localhost:8080".to_owned());
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(ConfigError::Value {
                key: "public_url",
                reason: format!("'{public_url}' must start with https:// or http://"),
            });
        }
        let mail = mail_config(f.mail, &data_dir, env)?;
        let dns_servers = dns_servers(f.dns_servers, env)?;
        Ok(Self {
            file,
            dns_servers,
            database_url,
            database_password,
            operator: env.get("USHER_OPERATOR").or(f.operator),
            account: env.get("USHER_ACCOUNT").or(f.account),
            public_url: public_url.trim_end_matches('/').to_owned(),
            mail,
            console: ConsoleConfig {
                send_mail: f.console.send_mail.unwrap_or(true),
                refresh_seconds: f.console.refresh_seconds.unwrap_or(3).clamp(1, 3600),
            },
            keys: f.keys,
            serve: serve::resolve(f.serve, env)?,
            after_change: mailserver::resolve(f.mailserver)?,
            sync: sync::resolve(f.sync)?,
            audit: AuditConfig {
                key_file: f
                    .audit
                    .key_file
                    .unwrap_or_else(|| data_dir.join("audit.key")),
                anchor_file: f
                    .audit
                    .anchor_file
                    .unwrap_or_else(|| data_dir.join("audit.anchor")),
            },
            data_dir,
        })
    }
}

/// The mail settings: the file's, with the environment's overrides and the defaults.
fn mail_config(m: FileMail, data_dir: &Path, env: &dyn Env) -> Result<MailConfig, ConfigError> {
    let tls = m.smtp.tls.unwrap_or(Tls::Starttls);
    Ok(MailConfig {
        transport: match env.get("USHER_MAIL_TRANSPORT") {
            Some(t) => parse_transport(&t)?,
            None => m.transport.unwrap_or(Transport::Spool),
        },
        from: m.from.unwrap_or_else(|| "usher@localhost".to_owned()),
        from_name: m.from_name,
        spool_dir: m.spool_dir.unwrap_or_else(|| data_dir.join("spool")),
        sendmail_command: m
            .sendmail_command
            .unwrap_or_else(|| "/usr/sbin/sendmail".to_owned()),
        concurrency: positive("mail.concurrency", m.concurrency.unwrap_or(32))?,
        rate_per_second: m.rate_per_second.filter(|r| *r > 0),
        max_attempts: m.max_attempts.unwrap_or(10).max(1),
        retry_base_seconds: m.retry_base_seconds.unwrap_or(30),
        lease_seconds: m.lease_seconds.unwrap_or(300).max(5),
        batch_size: positive("mail.batch_size", m.batch_size.unwrap_or(200))?,
        attachment_max_kib: m.attachment_max_kib.unwrap_or(10 * 1024),
        smtp: SmtpConfig {
            host: env
                .get("USHER_SMTP_HOST")
                .or(m.smtp.host)
                .unwrap_or_else(|| "localhost".to_owned()),
            port: match env.get("USHER_SMTP_PORT") {
                Some(p) => p.parse().map_err(|_| ConfigError::Value {
                    key: "USHER_SMTP_PORT",
                    reason: format!("'{p}' is not a port number"),
                })?,
                None => m.smtp.port.unwrap_or(match tls {
                    Tls::Starttls => 587,
                    Tls::Tls => 465,
                    Tls::None => 25,
                }),
            },
            tls,
            username: m.smtp.username,
            password: secret(
                env,
                "USHER_SMTP_PASSWORD",
                "mail.smtp.password_file",
                m.smtp.password_file.as_deref(),
            )?,
            ca_file: m.smtp.ca_file,
            timeout_seconds: m.smtp.timeout_seconds.unwrap_or(30).max(1),
            hello_name: m.smtp.hello_name,
        },
    })
}

/// The DNS servers domain checks ask (none: the system's), each an IP address with an
/// optional port.
fn dns_servers(
    from_file: Vec<String>,
    env: &dyn Env,
) -> Result<Vec<std::net::SocketAddr>, ConfigError> {
    let dns = env
        .get("USHER_DNS_SERVERS")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or(from_file);
    dns.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
                .map_err(|_| ConfigError::Value {
                    key: "dns_servers",
                    reason: format!("'{s}' is not an IP address (with an optional :port)"),
                })
        })
        .collect()
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_text(&text, path)
}

fn parse_text(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim().to_owned(),
    })
}

fn parse_transport(t: &str) -> Result<Transport, ConfigError> {
    match t {
        "spool" => Ok(Transport::Spool),
        "smtp" => Ok(Transport::Smtp),
        "sendmail" => Ok(Transport::Sendmail),
        other => Err(ConfigError::Value {
            key: "USHER_MAIL_TRANSPORT",
            reason: format!("'{other}' is not one of spool, smtp, sendmail"),
        }),
    }
}

fn positive(key: &'static str, n: usize) -> Result<usize, ConfigError> {
    if n == 0 {
        return Err(ConfigError::Value {
            key,
            reason: "must be at least 1".into(),
        });
    }
    Ok(n)
}

/// A secret from the environment, else from a file named in the config (first line, trimmed).
fn secret(
    env: &dyn Env,
    var: &str,
    key: &'static str,
    file: Option<&Path>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = env.get(var) {
        return Ok(Some(Secret::new(v)));
    }
    let Some(path) = file else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Secret {
        key,
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(Secret::new(
        text.lines().next().unwrap_or_default().trim().to_owned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: [(&str, &str); 1] = [("USHER_DATA_DIR", "/tmp/usher-test-data")];

    #[test]
    fn defaults_need_no_file() -> Result<(), ConfigError> {
        let c = Config::from_toml("", &Overrides::default(), &ENV)?;
        assert_eq!(c.database_url, "sqlite:///tmp/usher-test-data/usher.db");
        assert_eq!(c.mail.transport, Transport::Spool);
        assert_eq!(
            c.mail.spool_dir,
            PathBuf::from("/tmp/usher-test-data/spool")
        );
        Ok(())
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml(
            "[mail]\ntransprot = \"smtp\"\n",
            &Overrides::default(),
            &ENV,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("transprot"), "{err}");
    }

    #[test]
    fn secrets_come_from_env_and_never_print() -> Result<(), ConfigError> {
        let env = [
            ("USHER_DATA_DIR", "/tmp/x"),
            ("USHER_SMTP_PASSWORD", "hunter2"),
        ];
        let c = Config::from_toml(
            "[mail.smtp]\nhost = \"relay\"\ntls = \"tls\"\n",
            &Overrides::default(),
            &env,
        )?;
        assert_eq!(
            c.mail.smtp.password.as_ref().map(Secret::expose),
            Some("hunter2")
        );
        assert_eq!(c.mail.smtp.port, 465);
        assert!(!format!("{c:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn every_key_in_the_example_is_known() -> Result<(), ConfigError> {
        // Uncomment every `# key = value` line: deny_unknown_fields refuses any the code lacks.
        let example = include_str!("../../../../config.example.toml");
        let mut keys = 0;
        let text: String = example
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if !rest.contains("_file")
                        && rest.split_once(" = ").is_some_and(|(k, _)| {
                            k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                {
                    keys += 1;
                    format!("{rest}\n")
                }
                // The sync source's tables, so that its keys land in them.
                Some(rest) if rest.starts_with("[sync.") || rest.starts_with("[[sync.") => {
                    format!("{rest}\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        let c = Config::from_toml(&text, &Overrides::default(), &ENV)?;
        assert!(keys >= 20, "only {keys} keys found");
        assert_eq!(c.mail.smtp.port, 587);
        assert_eq!(c.operator.as_deref(), Some("it-admin@example.org"));
        assert_eq!(c.after_change.commands.len(), 2);
        assert_eq!(c.after_change.commands[1], ["doveadm", "kick", "{login}"]);
        let corp = &c.sync[0];
        assert_eq!((corp.name.as_str(), corp.groups.len()), ("corp", 2));
        assert_eq!(corp.limits.role_loss.count, 100);
        assert_eq!(corp.groups[1].mailbox.as_deref(), Some("sales@acme.test"));
        Ok(())
    }

    #[test]
    fn cli_beats_env_beats_file() -> Result<(), ConfigError> {
        let env = [
            ("USHER_DATA_DIR", "/tmp/x"),
            ("USHER_DATABASE_URL", "postgres://env/db"),
        ];
        let file = "database_url = \"postgres://file/db\"\n";
        let c = Config::from_toml(file, &Overrides::default(), &env)?;
        assert_eq!(c.database_url, "postgres://env/db");
        let over = Overrides {
            database_url: Some("sqlite://cli.db".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::from_toml(file, &over, &env)?.database_url,
            "sqlite://cli.db"
        );
        Ok(())
    }
}
