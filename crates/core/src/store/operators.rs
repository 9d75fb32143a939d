//! Operators (docs/operators.md): who is connected or running the process, as the
//! database or the operating system says, and the account user each authenticated
//! identity acts as.

use serde::Serialize;

use super::{Store, Tx, TxInner, on_tx};
use crate::domain::Timestamp;
use crate::error::{Error, Result};

/// Who is acting, as authenticated: `os:LOGIN` for the process's user on SQLite,
/// `db:ROLE` for the PostgreSQL session's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub who: String,
    /// The database's owner: the SQLite file's owner (or root), or the role that owns
    /// usher's tables (or a superuser). It may do everything, and act as any user.
    pub owner: bool,
}

/// An identity linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OperatorLink {
    pub identity: String,
    pub account_id: i64,
    pub user_id: i64,
    pub email: String,
    pub created_at: i64,
    pub created_by: String,
}

impl Store {
    /// The identity behind this handle: the session's role on PostgreSQL; on SQLite the
    /// process's real user, by uid (not `$USER`, which anyone may set). Asked once: the
    /// credentials and the process do not change under a handle and its clones.
    pub async fn identity(&self) -> Result<Identity> {
        self.identity
            .get_or_try_init(|| self.ask_identity())
            .await
            .cloned()
    }

    /// The identity, if it has been asked already.
    pub fn known_identity(&self) -> Option<&Identity> {
        self.identity.get()
    }

    async fn ask_identity(&self) -> Result<Identity> {
        let mut tx = self.read().await?;
        match &mut tx.inner {
            TxInner::Postgres(t) => {
                // Before the schema exists, whoever makes it will own it.
                let (who, owner): (String, bool) = sqlx::query_as(
                    "SELECT session_user::text,
                        COALESCE(session_user::text = (SELECT pg_get_userbyid(relowner)::text
                                      FROM pg_class WHERE oid = to_regclass('accounts')), TRUE)
                        OR COALESCE((SELECT rolsuper FROM pg_roles
                                     WHERE rolname = session_user), FALSE)",
                )
                .fetch_one(&mut **t)
                .await?;
                Ok(Identity {
                    who: format!("db:{who}"),
                    owner,
                })
            }
            TxInner::Sqlite(_) => self.os_identity(),
        }
    }

    fn os_identity(&self) -> Result<Identity> {
        use std::os::unix::fs::MetadataExt;
        let uid = nix::unistd::getuid();
        let login = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map_or_else(|| uid.to_string(), |u| u.name);
        let owner = match self.sqlite_path() {
            Some(path) => {
                let meta = std::fs::metadata(&path).map_err(|e| Error::Connect {
                    url: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                uid.is_root() || meta.uid() == uid.as_raw()
            }
            // An in-memory database belongs to the process that made it.
            None => true,
        };
        Ok(Identity {
            who: format!("os:{login}"),
            owner,
        })
    }
}

impl Tx {
    /// The user an identity is linked to, if any.
    pub async fn operator_link(&mut self, identity: &str) -> Result<Option<OperatorLink>> {
        let row = on_tx!(self, |c| {
            sqlx::query_as::<_, OperatorLink>(
                "SELECT o.identity, o.account_id, o.user_id, u.email, o.created_at, o.created_by
                 FROM operators o JOIN users u ON u.id = o.user_id WHERE o.identity = $1",
            )
            .bind(identity)
            .fetch_optional(c)
            .await
        })?;
        Ok(row)
    }

    pub async fn operator_links(&mut self, account_id: i64) -> Result<Vec<OperatorLink>> {
        let rows = on_tx!(self, |c| {
            sqlx::query_as::<_, OperatorLink>(
                "SELECT o.identity, o.account_id, o.user_id, u.email, o.created_at, o.created_by
                 FROM operators o JOIN users u ON u.id = o.user_id
                 WHERE o.account_id = $1 ORDER BY o.identity",
            )
            .bind(account_id)
            .fetch_all(c)
            .await
        })?;
        Ok(rows)
    }

    /// Links `identity` to a user, replacing an earlier link of that identity.
    pub async fn link_operator(
        &mut self,
        identity: &str,
        account_id: i64,
        user_id: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO operators (identity, account_id, user_id, created_at, created_by)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (identity) DO UPDATE SET account_id = excluded.account_id,
                    user_id = excluded.user_id, created_at = excluded.created_at,
                    created_by = excluded.created_by",
            )
            .bind(identity)
            .bind(account_id)
            .bind(user_id)
            .bind(now.0)
            .bind(by)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Removes a link; false when there was none.
    pub async fn unlink_operator(&mut self, identity: &str) -> Result<bool> {
        let done = on_tx!(self, |c| {
            sqlx::query("DELETE FROM operators WHERE identity = $1")
                .bind(identity)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done > 0)
    }
}

impl Tx {
    /// Makes (or takes) the login role `role`, puts it in the operators' group, sets its
    /// password if one is given and links it to a user, through the database's own
    /// function (PostgreSQL only), which refuses all but the owner and Administrators.
    pub async fn add_db_operator(
        &mut self,
        role: &str,
        password: Option<&crate::domain::Secret>,
        account_id: i64,
        user_id: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        let TxInner::Postgres(t) = &mut self.inner else {
            return Err(Error::invalid(
                "--db-role",
                "database roles are PostgreSQL's: on SQLite, link a host login with \
                 `usher operators link os:LOGIN ADDRESS`",
            ));
        };
        sqlx::query("SELECT usher_add_operator($1, $2, $3, $4, $5, $6)")
            .bind(role)
            .bind(password.map(|p| p.expose().to_owned()))
            .bind(account_id)
            .bind(user_id)
            .bind(by)
            .bind(now.0)
            .execute(&mut **t)
            .await?;
        Ok(())
    }

    /// Removes a link through the database's function on PostgreSQL (which drops an
    /// operator's login role with it), or the row on SQLite.
    pub async fn remove_operator_link(&mut self, identity: &str) -> Result<bool> {
        match &mut self.inner {
            TxInner::Postgres(t) => Ok(sqlx::query_scalar::<_, bool>(
                "SELECT usher_remove_operator($1)",
            )
            .bind(identity)
            .fetch_one(&mut **t)
            .await?),
            TxInner::Sqlite(_) => self.unlink_operator(identity).await,
        }
    }
}
