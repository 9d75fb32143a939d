//! The mail server's views (docs/mailserver.md), as usher itself reads them, and the
//! PostgreSQL role a mail server logs in as.

use serde::Serialize;

use super::{Tx, TxInner, on_tx};
use crate::error::{Error, Result};
use crate::mailserver::{LOGINS, VIEWS};

/// Whether a user may log in to mail, and why not, as the mail server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MailLogin {
    pub may_login: bool,
    /// `ok`, or what stops them: `suspended`, `not on a mail domain`, `domain inactive`,
    /// `no password yet`, `password in an unknown form`, `must change password`.
    pub reason: String,
}

/// How many rows each view answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewCount {
    pub view: &'static str,
    pub rows: i64,
}

impl Tx {
    pub async fn mail_login(&mut self, user_id: i64) -> Result<Option<MailLogin>> {
        let sql = format!("SELECT may_login, reason FROM {LOGINS} WHERE user_id = $1");
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, MailLogin>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(user_id)
                .fetch_optional(c)
                .await
        })?;
        Ok(row)
    }

    /// Each view's row count, and the logins that may log in: the check's first answer.
    pub async fn mail_view_counts(&mut self) -> Result<(Vec<ViewCount>, i64)> {
        let mut out = Vec::new();
        for view in VIEWS {
            let sql = format!("SELECT COUNT(*) FROM {view}");
            let rows: i64 = on_tx!(self, |c| {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_one(c)
                    .await
            })?;
            out.push(ViewCount { view, rows });
        }
        let sql = format!("SELECT COUNT(*) FROM {LOGINS} WHERE may_login");
        let may: i64 = on_tx!(self, |c| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(c)
                .await
        })?;
        Ok((out, may))
    }

    /// The schema usher's tables are in (PostgreSQL), for a mail server's queries.
    pub async fn current_schema(&mut self) -> Result<Option<String>> {
        match &mut self.inner {
            TxInner::Sqlite(_) => Ok(None),
            TxInner::Postgres(t) => Ok(sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&mut **t)
                .await?),
        }
    }

    /// Creates (or updates) the PostgreSQL role `role` that may read the views and
    /// nothing else; true when it was created. Views run with their owner's rights, so
    /// the role needs no grant on any table.
    pub async fn create_mail_role(&mut self, role: &str, password: Option<&str>) -> Result<bool> {
        let TxInner::Postgres(t) = &mut self.inner else {
            return Err(Error::invalid(
                "database",
                "SQLite has no roles: give the mail server read access to the file \
                 (docs/mailserver.md)",
            ));
        };
        check_role_name(role)?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(role)
                .fetch_one(&mut **t)
                .await?;
        let password = match password {
            Some(p) => format!(" PASSWORD {}", quote_literal(p)?),
            None => String::new(),
        };
        let verb = if exists { "ALTER" } else { "CREATE" };
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut **t)
            .await?;
        let schema = format!("\"{}\"", schema.replace('"', "\"\""));
        let mut statements = vec![
            format!("{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE{password}"),
            format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        ];
        statements.extend(
            VIEWS
                .iter()
                .map(|v| format!("GRANT SELECT ON {schema}.{v} TO {role}")),
        );
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&mut **t)
                .await?;
        }
        Ok(!exists)
    }
}

/// A role name usher will write into SQL unquoted: lower-case letters, digits and `_`.
fn check_role_name(role: &str) -> Result<()> {
    let ok = role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "role",
            format!("'{role}' is not a role name usher creates (a-z, 0-9 and _, up to 63)"),
        ))
    }
}

/// A SQL string literal; a password with control characters is refused.
fn quote_literal(v: &str) -> Result<String> {
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(
            "password",
            "the mail server's password has a control character in it",
        ));
    }
    Ok(format!("'{}'", v.replace('\'', "''")))
}
