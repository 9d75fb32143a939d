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

/// How long a transaction waits for a connection on its way back to the pool rather
/// than open another. sqlx returns a connection in a task of its own after a round trip
/// (a ping, and a read's rollback), so a command's transactions one after another would
/// each find the pool empty and open a connection: on PostgreSQL a TLS handshake and
/// authentication. (On SQLite opening one costs less than the wait: measured.)
const RETURN_WAIT: Duration = Duration::from_millis(10);

/// Waits (at most `RETURN_WAIT`) while every connection the pool has is out.
pub(super) async fn await_returning<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    let start = tokio::time::Instant::now();
    while pool.num_idle() == 0 && pool.size() > 0 && start.elapsed() < RETURN_WAIT {
        // A return takes tens of microseconds: yield to it for a millisecond, and only
        // then sleep (a timer's tick is a millisecond, often two).
        if start.elapsed() < Duration::from_millis(1) {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}
