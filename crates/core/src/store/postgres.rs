//! What is particular to PostgreSQL: connection options and row locks.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

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
    // A refused port is said at once: the pool would try again until its timeout and
    // then only say "timed out". The check is a bare TCP connection, not a second
    // PostgreSQL session (a TLS handshake and authentication).
    if options.get_socket().is_none() {
        let addr = (options.get_host().to_owned(), options.get_port());
        tokio::time::timeout(opts.connect_timeout, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| fail(format!("no answer within {:?}", opts.connect_timeout)))?
            .map_err(|e| fail(why_not(&sqlx::Error::Io(e))))?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout)
        .connect_lazy_with(options);
    // The first connection is the pool's own, kept for what follows.
    drop(pool.acquire().await.map_err(|e| match e {
        sqlx::Error::PoolTimedOut => fail(format!("no answer within {:?}", opts.connect_timeout)),
        e => fail(why_not(&e)),
    })?);
    Ok(pool)
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
    super::connect::await_returning(pool).await;
    let applied = sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(pool)
        .await;
    if applied.is_ok_and(|rows| super::migrations::migrations_applied(&MIGRATOR, &rows)) {
        return Ok(());
    }
    // sqlx takes an advisory lock, so concurrent starts migrate once.
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Refuses a schema older than this usher, for a role that may not migrate it.
pub(super) async fn require_current(pool: &PgPool) -> Result<()> {
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    super::connect::await_returning(pool).await;
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

/// A value written into a statement's text.
pub(super) enum Literal<'a> {
    Int(i64),
    Text(&'a str),
}

/// The statement with `$1`, `$2`... replaced by these values as literals. For the
/// searches whose plan must fit the pattern: PostgreSQL may plan a prepared statement
/// once for every value (a generic plan, after five runs, or always under
/// `plan_cache_mode = force_generic_plan`), and a generic plan cannot know that a LIKE
/// pattern is rare enough for the trigram index (docs/performance.md). Text is an escape
/// string (`E'...'`), which reads the same whatever `standard_conforming_strings` says;
/// PostgreSQL's text cannot hold NUL, so a NUL is dropped.
pub(super) fn inline(sql: &str, values: &[Literal<'_>]) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let mut digits = String::new();
        while c == '$'
            && let Some(d) = chars.next_if(char::is_ascii_digit)
        {
            digits.push(d);
        }
        let value = digits
            .parse::<usize>()
            .ok()
            .and_then(|n| values.get(n.checked_sub(1)?));
        match value {
            Some(Literal::Int(n)) => out.push_str(&n.to_string()),
            Some(Literal::Text(s)) => {
                out.push_str("E'");
                for ch in s.chars() {
                    match ch {
                        '\'' => out.push_str("''"),
                        '\\' => out.push_str("\\\\"),
                        '\0' => {}
                        _ => out.push(ch),
                    }
                }
                out.push('\'');
            }
            None => {
                out.push(c);
                out.push_str(&digits);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Literal, inline};

    #[test]
    fn values_are_written_as_literals_in_one_pass() {
        let sql = inline(
            "SELECT $1, $2, $10",
            &[Literal::Int(-7), Literal::Text("it's a\\b $1\0")],
        );
        // A value that reads like a parameter is not replaced again; an unknown one stays.
        assert_eq!(sql, "SELECT -7, E'it''s a\\\\b $1', $10");
    }
}
