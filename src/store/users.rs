//! Users of an account.

use serde::{Deserialize, Serialize};

use super::{Tx, on_tx};
use crate::domain::{Timestamp, UserStatus, UserType};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub unique_ref: Option<String>,
    pub user_type: UserType,
    pub status: UserStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One user for a bulk insert.
#[derive(Debug, Clone, Serialize)]
pub struct BulkUser {
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub unique_ref: Option<String>,
    pub user_type: UserType,
    pub status: UserStatus,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: i64,
    account_id: i64,
    email: String,
    email_display: String,
    first_name: String,
    last_name: String,
    display_name: String,
    unique_ref: Option<String>,
    user_type: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(Self {
            user_type: r
                .user_type
                .parse()
                .map_err(|e: crate::domain::types::UnknownValue| {
                    Error::invalid("user_type", e.to_string())
                })?,
            status: r
                .status
                .parse()
                .map_err(|e: crate::domain::types::UnknownValue| {
                    Error::invalid("status", e.to_string())
                })?,
            id: r.id,
            account_id: r.account_id,
            email: r.email,
            email_display: r.email_display,
            first_name: r.first_name,
            last_name: r.last_name,
            display_name: r.display_name,
            unique_ref: r.unique_ref,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub account_id: i64,
    pub email: &'a str,
    pub email_display: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub unique_ref: Option<&'a str>,
    pub user_type: UserType,
    pub status: UserStatus,
    pub now: Timestamp,
}

macro_rules! select_users {
    ($($rest:tt)+) => {
        concat!(
            "SELECT id, account_id, email, email_display, first_name, last_name, display_name,
                unique_ref, user_type, status, created_at, updated_at FROM users",
            $($rest)+
        )
    };
}

impl Tx {
    pub async fn insert_user(&mut self, u: &NewUser<'_>) -> Result<i64> {
        let display = format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_owned();
        let id = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (account_id, email, email_display, first_name, last_name,
                    display_name, unique_ref, user_type, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(u.account_id)
            .bind(u.email)
            .bind(u.email_display)
            .bind(u.first_name)
            .bind(u.last_name)
            .bind(&display)
            .bind(u.unique_ref)
            .bind(u.user_type.as_str())
            .bind(u.status.as_str())
            .bind(u.now.0)
            .fetch_one(c)
            .await
        })?;
        Ok(id)
    }

    pub async fn user_by_email(&mut self, account_id: i64, email: &str) -> Result<Option<User>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, UserRow>(select_users!(" WHERE account_id = $1 AND email = $2"))
                .bind(account_id)
                .bind(email)
                .fetch_optional(c)
                .await
        })?;
        row.map(User::try_from).transpose()
    }

    pub async fn user_by_id(&mut self, account_id: i64, id: i64) -> Result<Option<User>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, UserRow>(select_users!(" WHERE account_id = $1 AND id = $2"))
                .bind(account_id)
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        row.map(User::try_from).transpose()
    }

    pub async fn delete_user(&mut self, id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Users whose address or name contains `search` (any case), in address order,
    /// after the address `after` (keyset paging; from it, if `inclusive`), at most `limit`.
    pub async fn list_users(
        &mut self,
        account_id: i64,
        search: &str,
        after: &str,
        inclusive: bool,
        limit: i64,
    ) -> Result<Vec<User>> {
        let mode = if inclusive { Page::From } else { Page::After };
        self.users_page(account_id, search, mode, after, limit)
            .await
    }

    /// Users before the address `before` (or the last ones, when `before` is empty), in
    /// address order: the page above a window, for scrolling up and for `G`.
    pub async fn list_users_before(
        &mut self,
        account_id: i64,
        search: &str,
        before: &str,
        limit: i64,
    ) -> Result<Vec<User>> {
        let mode = if before.is_empty() {
            Page::Last
        } else {
            Page::Before
        };
        let mut users = self
            .users_page(account_id, search, mode, before, limit)
            .await?;
        users.reverse();
        Ok(users)
    }

    /// One statement per case, with no `OR` on parameters, so that both planners use the
    /// (account, address) index for the order and the bound.
    async fn users_page(
        &mut self,
        account_id: i64,
        search: &str,
        mode: Page,
        bound: &str,
        limit: i64,
    ) -> Result<Vec<User>> {
        let search = search.to_lowercase();
        let (filter, arg) = if search.is_empty() {
            (Filter::All, String::new())
        } else if let Some(ids) = self.trigram_candidates(&search).await? {
            (Filter::Ids, ids)
        } else {
            (Filter::Like, format!("%{}%", escape_like(&search)))
        };
        let sql = users_sql(filter, mode);
        // `Last` has no bound: '' is below every address.
        let bound = if mode == Page::Last { "" } else { bound };
        let rows = if filter == Filter::All {
            on_tx!(self, |c| {
                sqlx::query_as::<_, UserRow>(sql)
                    .bind(account_id)
                    .bind(bound)
                    .bind(limit)
                    .fetch_all(c)
                    .await
            })?
        } else {
            on_tx!(self, |c| {
                sqlx::query_as::<_, UserRow>(sql)
                    .bind(account_id)
                    .bind(bound)
                    .bind(limit)
                    .bind(&arg)
                    .fetch_all(c)
                    .await
            })?
        };
        rows.into_iter().map(User::try_from).collect()
    }

    /// How to search: a substring of three characters or more that few users contain is
    /// found through the trigram index (the ids of the matches, as a JSON array); one that
    /// many contain ("acme") is faster by walking the address index in order until a page
    /// is full (None). On PostgreSQL the planner makes that choice itself from pg_trgm's
    /// statistics.
    async fn trigram_candidates(&mut self, search: &str) -> Result<Option<String>> {
        if search.chars().count() < 3 {
            return Ok(None);
        }
        match &mut self.inner {
            super::TxInner::Sqlite(t) => super::sqlite::trigram_candidates(t, search).await,
            super::TxInner::Postgres(_) => Ok(None),
        }
    }

    /// Every user of the account, for an import's plan.
    pub async fn all_users(&mut self, account_id: i64) -> Result<Vec<User>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, UserRow>(select_users!(" WHERE account_id = $1 ORDER BY email"))
                .bind(account_id)
                .fetch_all(c)
                .await
        })?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Refreshes the planner's statistics on users. Needed after a bulk change: with stale
    /// statistics PostgreSQL scans the whole table for a search (96 ms instead of 3 ms at
    /// 100k users).
    pub async fn analyze_users(&mut self) -> Result<()> {
        on_tx!(self, |c| sqlx::query("ANALYZE users")
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Adds many users in a few statements (JSON on SQLite, arrays on PostgreSQL): the
    /// one-statement-per-row way manages only ~10k rows/s on SQLite.
    pub async fn insert_users_bulk(
        &mut self,
        account_id: i64,
        users: &[BulkUser],
        now: Timestamp,
    ) -> Result<u64> {
        let mut n = 0;
        for chunk in users.chunks(10_000) {
            n += match &mut self.inner {
                super::TxInner::Sqlite(t) => {
                    super::sqlite::insert_users_bulk(t, account_id, chunk, now).await?
                }
                super::TxInner::Postgres(t) => {
                    super::postgres::insert_users_bulk(t, account_id, chunk, now).await?
                }
            };
        }
        Ok(n)
    }

    pub async fn count_users(&mut self, account_id: i64) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(c)
                .await
        })?;
        Ok(n)
    }

    pub async fn count_active_professionals(&mut self, account_id: i64) -> Result<i64> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users
                 WHERE account_id = $1 AND user_type = 'professional' AND status = 'active'",
            )
            .bind(account_id)
            .fetch_one(c)
            .await
        })?;
        Ok(n)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Page {
    After,
    From,
    Before,
    Last,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    /// $4: a LIKE pattern on the address or the name.
    Like,
    /// $4: a JSON array of candidate ids (SQLite's trigram index).
    Ids,
}

macro_rules! users_sql {
    ($filter:expr, $mode:expr; $($f:ident => $fsql:literal),+; $($m:ident => $msql:literal),+) => {
        users_sql!(@outer $filter, $mode, [$($m => $msql),+], $($f => $fsql),+)
    };
    (@outer $filter:expr, $mode:expr, $modes:tt, $($f:ident => $fsql:literal),+) => {
        match $filter {
            $(Filter::$f => users_sql!(@inner $mode, $fsql, $modes),)+
        }
    };
    (@inner $mode:expr, $fsql:literal, [$($m:ident => $msql:literal),+]) => {
        match $mode {
            $(Page::$m => select_users!(" WHERE account_id = $1", $fsql, $msql),)+
        }
    };
}

/// $1 account, $2 bound address, $3 limit, $4 the filter's argument.
fn users_sql(filter: Filter, mode: Page) -> &'static str {
    users_sql!(filter, mode;
        All => "",
        Like => " AND (email LIKE $4 ESCAPE '\\' OR lower(display_name) LIKE $4 ESCAPE '\\')",
        Ids => " AND id IN (SELECT value FROM json_each($4))";
        After => " AND email > $2 ORDER BY email LIMIT $3",
        From => " AND email >= $2 ORDER BY email LIMIT $3",
        Before => " AND email < $2 ORDER BY email DESC LIMIT $3",
        Last => " AND email > $2 ORDER BY email DESC LIMIT $3")
}

/// Escapes LIKE's wildcards so that a search for "50%" finds "50%".
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
