//! The `[serve]` section: the enrolment server behind the invitation link.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

use super::env::Env;
use super::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileServe {
    bind: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    templates_dir: Option<PathBuf>,
    notify_fallback: Option<String>,
    reminder_hours_before: Option<u64>,
    registration_link_hours: Option<u64>,
    banned_passwords_file: Option<PathBuf>,
    requests_per_minute: Option<u32>,
    attempts_per_link: Option<u32>,
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    /// Certificate chain and key (PEM) to serve HTTPS directly; else plain HTTP, for a
    /// reverse proxy that terminates TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Proxies whose X-Forwarded-For is believed, for the client's address.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where an organisation's own page templates and stylesheet override the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// Who hears of an answered invitation when its inviter is not a mail address.
    pub notify_fallback: Option<String>,
    /// Send a reminder this long before an invitation expires; None: no reminders.
    pub reminder_hours_before: Option<u64>,
    pub registration_link_hours: u64,
    pub banned_passwords_file: Option<PathBuf>,
    /// Requests a client address may make per minute.
    pub requests_per_minute: u32,
    /// Form submissions one link may receive per hour.
    pub attempts_per_link: u32,
    /// Connections open at once, in all (also held under the process's file limit).
    pub max_connections: usize,
    /// Connections open at once from one address (a trusted proxy is held only by the
    /// total).
    pub max_connections_per_client: usize,
}

pub(super) fn resolve(f: FileServe, env: &dyn Env) -> Result<ServeConfig, ConfigError> {
    let bind = env
        .get("USHER_BIND")
        .or(f.bind)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let bind = bind.parse().map_err(|_| ConfigError::Value {
        key: "serve.bind",
        reason: format!("'{bind}' is not an address:port such as 127.0.0.1:8080"),
    })?;
    let tls = match (f.tls_cert, f.tls_key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Value {
                key: "serve.tls_cert",
                reason: "tls_cert and tls_key go together".into(),
            });
        }
    };
    let trusted_proxies = f
        .trusted_proxies
        .iter()
        .map(|p| {
            p.trim().parse().map_err(|_| ConfigError::Value {
                key: "serve.trusted_proxies",
                reason: format!("'{p}' is not an IP address"),
            })
        })
        .collect::<Result<_, _>>()?;
    if let Some(a) = &f.notify_fallback {
        crate::domain::Email::parse(a).map_err(|e| ConfigError::Value {
            key: "serve.notify_fallback",
            reason: e.to_string(),
        })?;
    }
    Ok(ServeConfig {
        bind,
        tls,
        trusted_proxies,
        templates_dir: f.templates_dir,
        notify_fallback: f.notify_fallback,
        reminder_hours_before: f.reminder_hours_before.filter(|h| *h > 0),
        registration_link_hours: f.registration_link_hours.unwrap_or(24).clamp(1, 24 * 14),
        banned_passwords_file: f.banned_passwords_file,
        requests_per_minute: f.requests_per_minute.unwrap_or(60).max(1),
        attempts_per_link: f.attempts_per_link.unwrap_or(10).max(1),
        max_connections: f.max_connections.unwrap_or(1024).max(1),
        max_connections_per_client: f.max_connections_per_client.unwrap_or(64).max(1),
    })
}
