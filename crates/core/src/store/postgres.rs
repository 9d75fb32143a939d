//! What is particular to PostgreSQL: connection options and row locks.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use super::bulk_user::BulkUser;
use super::{ConnectOptions, redact_url};
use crate::domain::Timestamp;
use crate::error::{Error, Result};

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("../../assets/migrations/postgres");

pub(super) async fn connect(url: &str, opts: &ConnectOptions) -> Result<PgPool> {
    let fail = |reason: String| Error::Connect {
        url: redact_url(url),
        reason,
    };
    let mut options = PgConnectOptions::from_str(url)
        .map_err(|e| fail(e.to_string()))?
        .application_name("usher");
    if let Some(pw) = &opts.password {
        options = options.password(pw.expose());
    }
    // One direct connection first: the pool would only say "timed out", while this
    // says why (refused, unknown host, bad password, no such database).
    let probe = tokio::time::timeout(opts.connect_timeout, PgConnection::connect_with(&options))
        .await
        .map_err(|_| fail(format!("no answer within {:?}", opts.connect_timeout)))?
        .map_err(|e| fail(why_not(&e)))?;
    let _ = probe.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout)
        .connect_lazy_with(options))
}

/// Why a connection was refused, in words that say what to check (the server's own
/// message, without the source position PostgreSQL appends).
fn why_not(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => {
            let msg = db.message();
            match db.code().as_deref() {
                Some("3D000") => format!(
                    "{msg}: check the database name in the URL, or create it \
                     (`createdb NAME`) and run `usher init`"
                ),
                Some("28P01" | "28000") => format!(
                    "{msg}: check the user name and the password (database_password_file \
                     or USHER_DATABASE_PASSWORD_FILE)"
                ),
                _ => msg.to_owned(),
            }
        }
        sqlx::Error::Io(io) => {
            format!("{io}: check the host and port, and that PostgreSQL is running")
        }
        other => other.to_string(),
    }
}

pub(super) async fn migrate(pool: &PgPool) -> Result<()> {
    // sqlx takes an advisory lock, so concurrent starts migrate once.
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Refuses a schema older than this usher, for a role that may not migrate it.
pub(super) async fn require_current(pool: &PgPool) -> Result<()> {
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    if applied.unwrap_or(0) < newest {
        return Err(crate::error::Error::Forbidden(format!(
            "the database's schema is at migration {} and this usher needs {newest}: the \
             database's owner runs `usher db migrate`",
            applied.unwrap_or(0)
        )));
    }
    Ok(())
}

pub(super) async fn lock_account(t: &mut Transaction<'static, Postgres>, id: i64) -> Result<()> {
    // An advisory lock, not the row's: an operator's own role may not lock a row it may
    // not update (row-level security), and the seat checks must serialise for all.
    sqlx::query("SELECT pg_advisory_xact_lock(7305811, $1::int4)")
        .bind(i32::try_from(id).unwrap_or(i32::MAX))
        .execute(&mut **t)
        .await?;
    Ok(())
}

/// One statement for the whole chunk: each column travels as one array.
pub(super) async fn insert_users_bulk(
    t: &mut Transaction<'static, Postgres>,
    account_id: i64,
    users: &[BulkUser],
    now: Timestamp,
) -> Result<u64> {
    let col = |f: fn(&BulkUser) -> String| users.iter().map(f).collect::<Vec<String>>();
    let refs: Vec<Option<String>> = users.iter().map(|u| u.unique_ref.clone()).collect();
    let done = sqlx::query(
        "INSERT INTO users (account_id, email, email_display, first_name, last_name, display_name,
            unique_ref, user_type, status, created_at, updated_at)
         SELECT $1, e, d, f, l, btrim(f || ' ' || l), r, ty, st, $2, $2
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
              AS u(e, d, f, l, r, ty, st)",
    )
    .bind(account_id)
    .bind(now.0)
    .bind(col(|u| u.email.clone()))
    .bind(col(|u| u.email_display.clone()))
    .bind(col(|u| u.first_name.clone()))
    .bind(col(|u| u.last_name.clone()))
    .bind(refs)
    .bind(col(|u| u.user_type.as_str().to_owned()))
    .bind(col(|u| u.status.as_str().to_owned()))
    .execute(&mut **t)
    .await?;
    Ok(done.rows_affected())
}
