//! Who is acting: named in every audit row.

use std::fmt;

use super::sanitize::single_line;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The configured operator address, else the OS user.
    pub name: String,
    /// The SSH client address, when the session came in over SSH.
    pub from: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: single_line(&name.into()),
            from: None,
        }
    }

    /// From the configured operator (if any), the OS user and `SSH_CONNECTION`
    /// ("client_ip client_port server_ip server_port").
    pub fn detect(configured: Option<&str>, ssh_connection: Option<&str>) -> Self {
        let name = configured
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("os:{}", whoami::username()));
        let from = ssh_connection
            .and_then(|s| s.split_whitespace().next())
            .map(single_line)
            .filter(|s| !s.is_empty());
        Self {
            name: single_line(&name),
            from,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            Some(ip) => write!(f, "{} (ssh from {ip})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_configured_and_reads_ssh_client() {
        let a = Actor::detect(Some("ops@x.org"), Some("10.1.2.3 50000 10.0.0.1 22"));
        assert_eq!(a.to_string(), "ops@x.org (ssh from 10.1.2.3)");
        let b = Actor::detect(None, None);
        assert!(b.name.starts_with("os:"));
        assert_eq!(b.from, None);
    }
}
