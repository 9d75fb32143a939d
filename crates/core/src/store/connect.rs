//! How a store connects, and its URL made fit to show.

use std::time::Duration;

use crate::config::Secret;

/// How a store connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub password: Option<Secret>,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// Create a SQLite file (and its directory) that is not there. The CLI sets it only
    /// for `init` and `db migrate`, so that a mistyped path is an error, not a new
    /// empty database.
    pub create: bool,
    /// The time an upgrade's changes are stamped with (the roles it gives accounts).
    pub clock: std::sync::Arc<dyn crate::domain::Clock>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            password: None,
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            create: true,
            clock: std::sync::Arc::new(crate::domain::SystemClock),
        }
    }
}

/// The URL with any password replaced, for error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}
