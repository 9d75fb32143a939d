//! What is particular to SQLite: file, pragmas, migrations under a file lock.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{ConnectOptions, redact_url};
use crate::error::{Error, Result};

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("assets/migrations/sqlite");

pub(super) async fn connect(url: &str, opts: &ConnectOptions) -> Result<SqlitePool> {
    let fail = |reason: String| Error::Connect {
        url: redact_url(url),
        reason,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| fail(e.to_string()))?
        .create_if_missing(true)
        // WAL lets readers (the console) go on while a writer (an import) works.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
        // 64 MiB of page cache keeps the address indexes of a large account in memory.
        .pragma("cache_size", "-65536");
    let path = options.get_filename().to_path_buf();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    SqlitePoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout.max(Duration::from_secs(30)))
        .connect_with(options)
        .await
        .map_err(|e| fail(e.to_string()))
}

fn database_path(pool: &SqlitePool) -> PathBuf {
    pool.connect_options().get_filename().to_path_buf()
}

pub(super) async fn migrate(pool: &SqlitePool) -> Result<()> {
    // sqlx does not lock SQLite migrations; two processes starting on a fresh file would
    // both try to create the tables. A lock file beside the database serialises them.
    let path = database_path(pool);
    let lock_path = path.with_extension("migrate.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ok();
    let lock = tokio::task::spawn_blocking(move || {
        if let Some(f) = &lock {
            let _ = f.lock();
        }
        lock
    })
    .await
    .ok()
    .flatten();
    let result = MIGRATOR.run(pool).await;
    drop(lock);
    result?;
    Ok(())
}
