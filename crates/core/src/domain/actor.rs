//! Who is acting: named in every audit row.

use std::fmt;

use super::sanitize::single_line;

/// How the actor reached usher, named in the audit log as it was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Channel {
    /// A command, on the host or over SSH.
    #[default]
    Cli,
    /// The console, on the host or over SSH.
    Console,
    /// `usher serve`'s pages: a visitor following a link.
    Web,
    /// `usher serve`'s schedule running a directory sync.
    Schedule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The configured operator address, else the OS user.
    pub name: String,
    /// The client's address: the SSH client's for the console and the CLI, the web
    /// client's for the server's pages.
    pub from: Option<String>,
    pub channel: Channel,
    /// Who authenticated, as the database or the operating system says (`os:LOGIN`,
    /// `db:ROLE`), when it is not the name itself.
    pub identity: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: single_line(&name.into()),
            from: None,
            channel: Channel::Cli,
            identity: None,
        }
    }

    /// The same actor, on another channel.
    pub fn via(&self, channel: Channel) -> Self {
        Self {
            channel,
            ..self.clone()
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
            channel: Channel::Cli,
            identity: None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A command on the host is the plain case: the name alone.
        f.write_str(&self.name)?;
        if let Some(id) = self.identity.as_deref().filter(|id| *id != self.name) {
            write!(f, " [{}]", single_line(id))?;
        }
        match (self.channel, &self.from) {
            (Channel::Cli, None) => Ok(()),
            (Channel::Cli, Some(ip)) => write!(f, " (cli over ssh from {ip})"),
            (Channel::Console, None) => f.write_str(" (console)"),
            (Channel::Console, Some(ip)) => write!(f, " (console over ssh from {ip})"),
            (Channel::Web, Some(ip)) => write!(f, " (web from {ip})"),
            (Channel::Web, None) => f.write_str(" (web)"),
            (Channel::Schedule, _) => f.write_str(" (sync schedule)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_configured_and_reads_ssh_client() {
        let a = Actor::detect(Some("ops@x.org"), Some("10.1.2.3 50000 10.0.0.1 22"));
        assert_eq!(a.to_string(), "ops@x.org (cli over ssh from 10.1.2.3)");
        assert_eq!(
            a.via(Channel::Console).to_string(),
            "ops@x.org (console over ssh from 10.1.2.3)"
        );
        let web = Actor {
            from: Some("192.0.2.7".into()),
            ..Actor::new("ann@x.org").via(Channel::Web)
        };
        assert_eq!(web.to_string(), "ann@x.org (web from 192.0.2.7)");
        assert_eq!(
            Actor::new("os:usher").via(Channel::Schedule).to_string(),
            "os:usher (sync schedule)"
        );
        let op = Actor {
            identity: Some("os:ann".into()),
            ..Actor::new("ann@x.org").via(Channel::Console)
        };
        assert_eq!(op.to_string(), "ann@x.org [os:ann] (console)");
        let b = Actor::detect(None, None);
        assert!(b.name.starts_with("os:"));
        assert_eq!(b.from, None);
    }
}
