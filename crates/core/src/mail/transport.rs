//! Where mail goes: an SMTP relay, the local sendmail, or a spool directory of `.eml`
//! files (the default, so an air-gapped install works before any mail server exists).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSendmailTransport, AsyncTransport, Tokio1Executor};

pub use super::send_error::SendError;
use super::smtp::{Relay, Security, SmtpPool, implicit_config};
use crate::config::{MailConfig, Tls, Transport};
use crate::domain::sanitize::single_line;
use crate::error::{Error, Result};

#[derive(Debug)]
pub enum MailTransport {
    Spool(PathBuf),
    Smtp(Box<SmtpPool>),
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
}

impl MailTransport {
    pub fn from_config(cfg: &MailConfig) -> Result<Self> {
        Ok(match cfg.transport {
            Transport::Spool => Self::Spool(cfg.spool_dir.clone()),
            Transport::Sendmail => Self::Sendmail(
                AsyncSendmailTransport::<Tokio1Executor>::new_with_command(&cfg.sendmail_command),
            ),
            Transport::Smtp => Self::Smtp(Box::new(smtp(cfg)?)),
        })
    }

    /// A short description for status lines ("smtp relay.example.org:587 (starttls)").
    pub fn describe(&self, cfg: &MailConfig) -> String {
        match self {
            Self::Spool(dir) => format!("spool {}", dir.display()),
            Self::Sendmail(_) => format!("sendmail {}", cfg.sendmail_command),
            Self::Smtp(_) => format!(
                "smtp {}:{} ({:?})",
                cfg.smtp.host, cfg.smtp.port, cfg.smtp.tls
            )
            .to_lowercase(),
        }
    }

    /// Says goodbye (QUIT) on the connections kept open, as a flush ends.
    pub async fn close_idle(&self) {
        if let Self::Smtp(pool) = self {
            pool.close_idle().await;
        }
    }

    /// Sends the stored message bytes unchanged.
    pub async fn send_raw(
        &self,
        message_id: &str,
        from: &str,
        to: &[String],
        raw: &[u8],
    ) -> Result<(), SendError> {
        match self {
            Self::Spool(dir) => spool(dir, message_id, raw).await,
            Self::Smtp(pool) => pool.send(&envelope(from, to)?, raw).await,
            Self::Sendmail(t) => {
                let env = envelope(from, to)?;
                t.send_raw(&env, raw)
                    .await
                    .map_err(|e| SendError::Transient(single_line(&e.to_string())))
            }
        }
    }
}

fn envelope(from: &str, to: &[String]) -> Result<Envelope, SendError> {
    let parse = |a: &str| {
        a.parse::<Address>()
            .map_err(|e| SendError::Permanent(format!("bad envelope address '{a}': {e}")))
    };
    let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(parse(from)?), to).map_err(|e| SendError::Permanent(e.to_string()))
}

/// Writes `<message-id>.eml` atomically (temporary file, then rename), so that a reader
/// of the spool never sees half a message and a retry overwrites rather than duplicates.
async fn spool(dir: &Path, message_id: &str, raw: &[u8]) -> Result<(), SendError> {
    let stem: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let io = |e: std::io::Error| SendError::Transient(format!("spool {}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let tmp = dir.join(format!(".{stem}.tmp"));
    let path = dir.join(format!("{stem}.eml"));
    tokio::fs::write(&tmp, raw).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(())
}

fn smtp(cfg: &MailConfig) -> Result<SmtpPool> {
    let s = &cfg.smtp;
    let bad_ca = |e: String| {
        let path = s.ca_file.as_deref().unwrap_or(Path::new("")).display();
        Error::MailSetup(format!("mail.smtp.ca_file {path}: {e}"))
    };
    let ca_pem = match &s.ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| bad_ca(e.to_string()))?),
        None => None,
    };
    let starttls = || -> Result<TlsParameters> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(pem) = &ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| bad_ca(e.to_string()))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| Error::MailSetup(format!("TLS setup for {}: {e}", s.host)))
    };
    let security = match s.tls {
        Tls::Starttls => Security::Starttls(starttls()?),
        Tls::Tls => Security::Implicit(implicit_config(ca_pem.as_deref()).map_err(bad_ca)?),
        Tls::None => Security::None,
    };
    let relay = Relay {
        host: s.host.clone(),
        port: s.port,
        security,
        hello: match &s.hello_name {
            Some(name) => ClientId::Domain(name.clone()),
            None => ClientId::default(),
        },
        credentials: match (&s.username, &s.password) {
            (Some(user), Some(pw)) => Some(Credentials::new(user.clone(), pw.expose().to_owned())),
            _ => None,
        },
        timeout: Duration::from_secs(s.timeout_seconds),
    };
    Ok(SmtpPool::new(relay, cfg.concurrency))
}
