//! What is particular to SQLite: file, pragmas, migrations under a file lock.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::bulk_user::BulkUser;
use super::search::CANDIDATE_CAP;
use super::{ConnectOptions, redact_url};
use crate::domain::Timestamp;
use crate::error::{Error, Result};

/// What the WAL is cut back to once checkpointed (bytes): well above its everyday size
/// (SQLite checkpoints at about 4 MiB).
const WAL_SIZE_LIMIT: &str = "16777216";

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("../../assets/migrations/sqlite");

pub(super) async fn connect(url: &str, opts: &ConnectOptions) -> Result<SqlitePool> {
    let fail = |reason: String| Error::Connect {
        url: redact_url(url),
        reason,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| fail(e.to_string()))?
        .create_if_missing(opts.create)
        // WAL lets readers (the console) go on while a writer (an import) works.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
        // 32 MiB of page cache per connection: the Users tab still answers every keystroke
        // within a frame at a million users, and an import of a million stays under 500 MiB.
        .pragma("cache_size", "-32768")
        // ANALYZE samples rather than reads every row: seconds become milliseconds.
        .pragma("analysis_limit", "1000")
        // A million-row import grows the WAL to about a gigabyte, and SQLite reuses the
        // file rather than shrink it: a long-running `usher serve` would keep that on disk.
        .pragma("journal_size_limit", WAL_SIZE_LIMIT);
    let path = options.get_filename().to_path_buf();
    if !opts.create && !path.exists() && path.as_os_str() != ":memory:" {
        return Err(fail(format!(
            "there is no database file at {}: check the path, or run `usher init` to \
             create one",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
        if let Some(fs) = nix::sys::statfs::statfs(dir)
            .ok()
            .and_then(|s| network_filesystem(s.filesystem_type().0))
        {
            return Err(fail(format!(
                "{} is on a network filesystem ({fs}): SQLite's locks and its WAL's shared \
                 memory do not hold across hosts there, and the file can be corrupted. Keep \
                 it on a local disk (USHER_DATA_DIR), or use PostgreSQL for several hosts",
                dir.display()
            )));
        }
    }
    SqlitePoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout.max(Duration::from_secs(30)))
        .connect_with(options)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// The network filesystem a `statfs` type names, if it is one (Linux magic numbers).
pub(super) fn network_filesystem(f_type: i64) -> Option<&'static str> {
    Some(match f_type {
        0x6969 => "NFS",
        0x517B => "SMB",
        0xFF53_4D42 => "CIFS",
        0xFE53_4D42 => "SMB2",
        0x0102_1997 => "9p",
        0x00C3_6400 => "CephFS",
        0x5346_414F => "AFS",
        _ => return None,
    })
}

pub(super) fn database_path(pool: &SqlitePool) -> PathBuf {
    pool.connect_options().get_filename().to_path_buf()
}

pub(super) async fn migrate(pool: &SqlitePool) -> Result<()> {
    let applied = sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(pool)
        .await;
    if applied.is_ok_and(|rows| super::migrations::migrations_applied(&MIGRATOR, &rows)) {
        return Ok(());
    }
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

/// The ids of the users whose address or name contains `search` (three characters or
/// more), as a JSON array, if there are at most `CANDIDATE_CAP` of them; else None.
pub(super) async fn trigram_candidates(
    t: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    search: &str,
) -> Result<Option<String>> {
    let phrase = format!("\"{}\"", search.replace('"', "\"\""));
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT rowid FROM users_fts WHERE users_fts MATCH $1 LIMIT $2")
            .bind(&phrase)
            .bind(CANDIDATE_CAP as i64 + 1)
            .fetch_all(&mut **t)
            .await?;
    if ids.len() > CANDIDATE_CAP {
        return Ok(None);
    }
    Ok(Some(serde_json::Value::from(ids).to_string()))
}

/// One statement for the whole chunk: the rows travel as one JSON array.
pub(super) async fn insert_users_bulk(
    t: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    account_id: i64,
    users: &[BulkUser],
    now: Timestamp,
) -> Result<u64> {
    let rows: Vec<_> = users
        .iter()
        .map(|u| {
            serde_json::json!([
                u.email,
                u.email_display,
                u.first_name,
                u.last_name,
                u.unique_ref,
                u.user_type,
                u.status
            ])
        })
        .collect();
    let json = serde_json::Value::Array(rows).to_string();
    let done = sqlx::query(
        "INSERT INTO users (account_id, email, email_display, first_name, last_name, display_name,
            unique_ref, user_type, status, created_at, updated_at)
         SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
                trim((j.value ->> 2) || ' ' || (j.value ->> 3)), j.value ->> 4, j.value ->> 5,
                j.value ->> 6, $2, $2
         FROM json_each($3) AS j",
    )
    .bind(account_id)
    .bind(now.0)
    .bind(json)
    .execute(&mut **t)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::network_filesystem;

    #[test]
    fn network_filesystems_are_told_from_local_ones() {
        assert_eq!(network_filesystem(0x6969), Some("NFS"));
        assert_eq!(network_filesystem(0xFF53_4D42), Some("CIFS"));
        // ext4, xfs, btrfs, tmpfs, overlayfs: local.
        for local in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630] {
            assert_eq!(network_filesystem(local), None, "{local:#x}");
        }
        // And the directory the tests run in is local, so opening works.
        let fs = nix::sys::statfs::statfs(std::env::temp_dir().as_path())
            .map(|s| s.filesystem_type().0)
            .unwrap_or(0);
        assert_eq!(network_filesystem(fs), None);
    }
}
