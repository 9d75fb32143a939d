//! Users of an account.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bulk_user::BulkUser;
use super::postgres::Literal;
use super::search::{self, GramStats, Plan};
use super::{Tx, on_tx};
use crate::domain::{Timestamp, UserStatus, UserType};
use crate::error::{Error, Result};
use crate::import::plan::Known;

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

/// A user as an import's plan holds them (the store knows the planner's form; the
/// planner knows nothing of the store).
impl From<&User> for Known {
    fn from(u: &User) -> Self {
        Known::new(
            u.id,
            &u.email,
            &u.email_display,
            &u.first_name,
            &u.last_name,
            u.unique_ref.as_deref(),
            u.user_type,
            u.status,
        )
    }
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
pub(super) use select_users;

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

    /// Whether a user of the account holds this unique reference.
    pub async fn unique_ref_taken(&mut self, account_id: i64, unique_ref: &str) -> Result<bool> {
        let n = on_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE account_id = $1 AND unique_ref = $2",
            )
            .bind(account_id)
            .bind(unique_ref)
            .fetch_one(c)
            .await
        })?;
        Ok(n > 0)
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
    /// (account, address) index for the order and the bound. See `search` for how a
    /// search picks its way.
    async fn users_page(
        &mut self,
        account_id: i64,
        search: &str,
        mode: Page,
        bound: &str,
        limit: i64,
    ) -> Result<Vec<User>> {
        let search = search.to_lowercase();
        // `Last` has no bound: '' is below every address.
        let bound = if mode == Page::Last { "" } else { bound };
        if search.is_empty() {
            return self
                .users_where(Filter::All, "", account_id, mode, bound, limit)
                .await;
        }
        let plan = if search.chars().count() < 3 {
            Plan::Dense
        } else {
            self.search_plan(account_id).await?.plan(&search)
        };
        if let Plan::Windows(windows) = &plan
            && let Some(users) = self
                .window_matches(account_id, &search, windows, (mode, bound, limit))
                .await?
        {
            return Ok(users);
        }
        if plan != Plan::Dense
            && let Some(ids) = self.trigram_candidates(&search).await?
        {
            return self
                .users_where(Filter::Ids, &ids, account_id, mode, bound, limit)
                .await;
        }
        let like = format!("%{}%", escape_like(&search));
        self.users_where(Filter::Like, &like, account_id, mode, bound, limit)
            .await
    }

    async fn users_where(
        &mut self,
        filter: Filter,
        arg: &str,
        account_id: i64,
        mode: Page,
        bound: &str,
        limit: i64,
    ) -> Result<Vec<User>> {
        let sql = users_sql(filter, mode);
        let rows = if let (Filter::Like, super::TxInner::Postgres(t)) = (filter, &mut self.inner) {
            let sql = super::postgres::inline(
                sql,
                &[
                    Literal::Int(account_id),
                    Literal::Text(bound),
                    Literal::Int(limit),
                    Literal::Text(arg),
                ],
            );
            sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
                .persistent(false)
                .fetch_all(&mut **t)
                .await?
        } else if filter == Filter::All {
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
                    .bind(arg)
                    .fetch_all(c)
                    .await
            })?
        };
        rows.into_iter().map(User::try_from).collect()
    }

    /// The sample of trigram figures for the account, taken now if missing or old.
    async fn search_plan(&mut self, account_id: i64) -> Result<Arc<GramStats>> {
        let cached = self.grams.lock().ok().and_then(|g| g.clone());
        if let Some(stats) = cached.filter(|s| s.fresh_for(account_id)) {
            return Ok(stats);
        }
        let (min, max) = on_tx!(self, |c| {
            sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
                // Over all accounts: the primary key answers at once, where a filter on
                // the account would read every row. The sample counts only this account's.
                "SELECT min(id), max(id) FROM users",
            )
            .fetch_one(c)
            .await
        })?;
        let probe = search::sample_ids(min.unwrap_or(0), max.unwrap_or(-1));
        let json = serde_json::Value::from(probe.clone()).to_string();
        let rows: Vec<(String, String)> = on_tx!(
            self,
            sqlite = "SELECT email, display_name FROM users
                      WHERE account_id = $1 AND id IN (SELECT value FROM json_each($2))",
            postgres = "SELECT email, display_name FROM users WHERE account_id = $1
                        AND id IN (SELECT value::bigint FROM json_array_elements_text($2::json))",
            |c, sql| sqlx::query_as(sql)
                .bind(account_id)
                .bind(&json)
                .fetch_all(c)
                .await
        )?;
        // The share of probed ids that are this account's users, times the id span.
        let span = (max.unwrap_or(0) - min.unwrap_or(0) + 1).max(0) as f64;
        let users = if probe.is_empty() {
            0.0
        } else {
            rows.len() as f64 / probe.len() as f64 * span
        };
        let stats = Arc::new(GramStats::new(account_id, &rows, users));
        if let Ok(mut g) = self.grams.lock() {
            *g = Some(stats.clone());
        }
        Ok(stats)
    }

    /// The page of users that contain `search`, found through the trigram index by its
    /// rare `windows`, checked against the whole search and ordered here (addresses sort
    /// by their bytes on both backends, as in SQL); None when the windows match too many
    /// users to be worth it.
    async fn window_matches(
        &mut self,
        account_id: i64,
        search: &str,
        windows: &[String],
        (mode, bound, limit): (Page, &str, i64),
    ) -> Result<Option<Vec<User>>> {
        let cap = search::CANDIDATE_CAP as i64 + 1;
        let candidates: Vec<(i64, String, String)> = match &mut self.inner {
            super::TxInner::Sqlite(t) => {
                let query = windows
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                // Driven by the index: stops at the cap, whatever other accounts hold.
                sqlx::query_as(
                    "SELECT u.id, u.email, u.display_name
                     FROM users_fts JOIN users u ON u.id = users_fts.rowid
                     WHERE users_fts MATCH $1 AND u.account_id = $2 LIMIT $3",
                )
                .bind(query)
                .bind(account_id)
                .bind(cap)
                .fetch_all(&mut **t)
                .await?
            }
            super::TxInner::Postgres(t) => {
                let parts: Vec<String> = windows.iter().map(|w| escape_like(w)).collect();
                let pattern = format!("%{}%", parts.join("%"));
                let sql = super::postgres::inline(
                    "SELECT id, email, display_name FROM users WHERE account_id = $1
                     AND (email LIKE $2 ESCAPE '\\' OR lower(display_name) LIKE $2 ESCAPE '\\')
                     LIMIT $3",
                    &[
                        Literal::Int(account_id),
                        Literal::Text(&pattern),
                        Literal::Int(cap),
                    ],
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .persistent(false)
                    .fetch_all(&mut **t)
                    .await?
            }
        };
        if candidates.len() > search::CANDIDATE_CAP {
            return Ok(None);
        }
        // Only the page's rows are read in full: decoding every candidate would cost more
        // than the search.
        let mut rows: Vec<(i64, String, String)> = candidates
            .into_iter()
            .filter(|(_, email, name)| search::matches(search, email, name))
            .filter(|(_, email, _)| match mode {
                Page::After => email.as_str() > bound,
                Page::From => email.as_str() >= bound,
                Page::Before => email.as_str() < bound,
                Page::Last => true,
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        if matches!(mode, Page::Before | Page::Last) {
            rows.reverse();
        }
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let ids: Vec<i64> = rows.into_iter().map(|(id, _, _)| id).collect();
        let filter = match self.inner {
            super::TxInner::Sqlite(_) => Filter::Ids,
            super::TxInner::Postgres(_) => Filter::IdsPg,
        };
        let ids = serde_json::Value::from(ids).to_string();
        self.users_where(filter, &ids, account_id, mode, bound, limit)
            .await
            .map(Some)
    }

    /// The whole search through SQLite's trigram index, when few users match it (the ids,
    /// as a JSON array); None when many do, or on PostgreSQL, whose planner makes that
    /// choice itself from pg_trgm's statistics.
    async fn trigram_candidates(&mut self, search: &str) -> Result<Option<String>> {
        match &mut self.inner {
            super::TxInner::Sqlite(t) => super::sqlite::trigram_candidates(t, search).await,
            super::TxInner::Postgres(_) => Ok(None),
        }
    }

    /// The account's users as an import's plan needs them, in the packed form, so that a
    /// million users never exist as full records at once. SQLite's are read 10,000 at a
    /// time as one JSON text each: row by row, its driver's per-row cost made a million
    /// users take 10 s (PostgreSQL's driver has no such cost: see below). In id order: the
    /// table's own order, and stable, so that the preview's digest and apply's agree.
    /// (`+account_id` keeps SQLite on the rowid: through the account's address index it
    /// sorted the whole account for every chunk.)
    pub async fn import_keys(&mut self, account_id: i64) -> Result<Vec<Known>> {
        if let super::TxInner::Postgres(t) = &mut self.inner {
            return postgres_import_keys(t, account_id).await;
        }
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
        );
        let (sqlite, postgres) = (
            "SELECT json_group_array(json_array(id, email, email_display, first_name,
                    last_name, unique_ref, user_type, status)), max(id)
             FROM (SELECT * FROM users WHERE +account_id = $1 AND id > $2
                   ORDER BY id LIMIT $3)",
            "SELECT COALESCE(json_agg(json_build_array(id, email, email_display, first_name,
                    last_name, unique_ref, user_type, status) ORDER BY id), '[]')::text, max(id)
             FROM (SELECT * FROM users WHERE account_id = $1 AND id > $2
                   ORDER BY id LIMIT $3) AS t",
        );
        let mut out = Vec::new();
        let mut after = 0i64;
        loop {
            let (json, last): (String, Option<i64>) =
                on_tx!(self, sqlite = sqlite, postgres = postgres, |c, sql| {
                    sqlx::query_as(sql)
                        .bind(account_id)
                        .bind(after)
                        .bind(super::params::CHUNK as i64)
                        .fetch_one(c)
                        .await
                })?;
            let rows: Vec<Row> = serde_json::from_str(&json)
                .map_err(|e| Error::corrupt("the account's users", e))?;
            for (id, email, display, first, last, r, t, st) in &rows {
                out.push(Known::new(
                    *id,
                    email,
                    display,
                    first,
                    last,
                    r.as_deref(),
                    t.parse()
                        .map_err(|e| Error::corrupt(format!("user {id}"), e))?,
                    st.parse()
                        .map_err(|e| Error::corrupt(format!("user {id}"), e))?,
                ));
            }
            match last {
                Some(id) if rows.len() == super::params::CHUNK => after = id,
                _ => return Ok(out),
            }
        }
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
    /// $4: a JSON array of ids, on SQLite.
    Ids,
    /// $4: a JSON array of ids, on PostgreSQL.
    IdsPg,
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
        Ids => " AND id IN (SELECT value FROM json_each($4))",
        IdsPg => " AND id IN (SELECT value::bigint FROM json_array_elements_text($4::json))";
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

/// PostgreSQL streams the rows in its binary form: half the server's time of building
/// JSON, and the driver reads a row in about a microsecond.
async fn postgres_import_keys(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    account_id: i64,
) -> Result<Vec<Known>> {
    use futures::TryStreamExt;
    use sqlx::Row;
    let mut out = Vec::new();
    let mut rows = sqlx::query(
        "SELECT id, email, email_display, first_name, last_name, unique_ref, user_type, status
         FROM users WHERE account_id = $1 ORDER BY id",
    )
    .bind(account_id)
    .fetch(&mut **t);
    while let Some(r) = rows.try_next().await? {
        let id: i64 = r.try_get(0)?;
        let bad = |e: crate::domain::types::UnknownValue| Error::corrupt(format!("user {id}"), e);
        out.push(Known::new(
            id,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get::<&str, _>(6)?.parse().map_err(bad)?,
            r.try_get::<&str, _>(7)?.parse().map_err(bad)?,
        ));
    }
    Ok(out)
}
