//! The `[mailserver]` section: what usher runs after a change the mail server must see at
//! once (docs/mailserver.md), such as flushing Dovecot's authentication cache.

use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;

/// The placeholder an `after_change` argument may hold: the user's login (address).
pub const LOGIN: &str = "{login}";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileMailserver {
    #[serde(default)]
    after_change: Vec<Vec<String>>,
    after_change_timeout_seconds: Option<u64>,
}

/// Commands run, once per user, after a suspension, a removal, a reactivation, a type
/// change or a password change; each is a program and its arguments, not a shell line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterChange {
    pub commands: Vec<Vec<String>>,
    pub timeout: Duration,
}

impl Default for AfterChange {
    fn default() -> Self {
        Self {
            commands: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

pub(super) fn resolve(f: FileMailserver) -> Result<AfterChange, ConfigError> {
    if let Some(i) = f
        .after_change
        .iter()
        .position(|c| c.is_empty() || c[0].trim().is_empty())
    {
        return Err(ConfigError::Value {
            key: "mailserver.after_change",
            reason: format!(
                "command {} is empty: each is a list, the program first (\"doveadm\", \"kick\", \"{LOGIN}\")",
                i + 1
            ),
        });
    }
    Ok(AfterChange {
        commands: f.after_change,
        timeout: Duration::from_secs(f.after_change_timeout_seconds.unwrap_or(10).clamp(1, 300)),
    })
}
