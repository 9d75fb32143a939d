//! What every request handler shares, made once from the configuration.

use std::net::IpAddr;

use usher_core::config::Config;
use usher_core::domain::mac::MacKey;
use usher_core::error::{Error, Result};
use usher_core::service::Usher;

use super::guard::Limits;
use super::pages::Pages;

/// What every request handler shares.
#[derive(Debug)]
pub struct App {
    pub(crate) usher: Usher,
    pub(crate) pages: Pages,
    pub(crate) limits: Limits,
    /// Served over HTTPS (here or at the proxy): Secure cookies and HSTS.
    pub(crate) secure: bool,
    /// scheme://host[:port] of the public address, which a form's Origin must match.
    pub(crate) origin: String,
    pub(crate) trusted: Vec<IpAddr>,
    /// Signs the CSRF cookies. Drawn when the server starts: a form opened before a
    /// restart asks to be reloaded, which is all a restart costs.
    pub(crate) csrf_key: MacKey,
    /// Connections open at once, in all and per client.
    pub(crate) connections: std::sync::Arc<super::conn::ConnLimits>,
    /// The directories the schedule runs (those with an interval).
    pub(crate) sync: Vec<usher_core::config::SyncSource>,
}

impl App {
    pub fn new(usher: Usher, config: &Config) -> Result<Self> {
        let s = &config.serve;
        let banned = match &s.banned_passwords_file {
            Some(p) => banned_passwords(p)?,
            None => Default::default(),
        };
        Ok(Self {
            usher: usher.with_banned_passwords(banned),
            pages: Pages::load(s.templates_dir.as_deref())?,
            limits: Limits::new(s.requests_per_minute, s.attempts_per_link),
            secure: config.public_url.starts_with("https://"),
            origin: origin_of(&config.public_url),
            trusted: s.trusted_proxies.clone(),
            csrf_key: MacKey::generate()?,
            connections: super::conn::ConnLimits::new(
                s.max_connections,
                s.max_connections_per_client,
                s.trusted_proxies.clone(),
            ),
            sync: config
                .sync
                .iter()
                .filter(|s| s.interval.is_some())
                .cloned()
                .collect(),
        })
    }
}

/// The organisation's own list of refused passwords, one per line, read when the server
/// starts (so a wrong path stops it at once, not an enrolment later).
fn banned_passwords(path: &std::path::Path) -> Result<std::collections::HashSet<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(
            "serve.banned_passwords_file",
            format!("{}: {e}", path.display()),
        )
    })?;
    Ok(text
        .lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect())
}

/// "https://host:port" of "https://host:port/path".
fn origin_of(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => url[..after + i].to_owned(),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_origin_is_the_public_address_without_its_path() {
        assert_eq!(
            origin_of("https://u.example.org/base"),
            "https://u.example.org"
        );
        assert_eq!(origin_of("http://localhost:8080"), "http://localhost:8080");
    }
}
