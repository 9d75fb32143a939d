//! What is particular to PostgreSQL: connection options and row locks.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use super::{ConnectOptions, redact_url};
use crate::error::{Error, Result};

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("assets/migrations/postgres");

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
        .map_err(|e| fail(e.to_string()))?;
    let _ = probe.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout)
        .connect_lazy_with(options))
}

pub(super) async fn migrate(pool: &PgPool) -> Result<()> {
    // sqlx takes an advisory lock, so concurrent starts migrate once.
    MIGRATOR.run(pool).await?;
    Ok(())
}

pub(super) async fn lock_account(t: &mut Transaction<'static, Postgres>, id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut **t)
        .await?;
    Ok(())
}
