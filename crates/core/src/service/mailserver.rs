//! What the mail server reads, from usher's side: the check that its views answer, and
//! the PostgreSQL role a mail server logs in as (docs/mailserver.md).

use serde::Serialize;
use serde_json::json;

use super::Usher;
use crate::domain::Permission;
use crate::error::Result;
use crate::store::ViewCount;

/// The views' answer: how many rows each gives, and how many logins may log in.
#[derive(Debug, Clone, Serialize)]
pub struct ViewCheck {
    pub views: Vec<ViewCount>,
    pub may_login: i64,
}

impl Usher {
    pub async fn mail_views(&self) -> Result<ViewCheck> {
        let mut tx = self.store.read().await?;
        let (views, may_login) = tx.mail_view_counts().await?;
        Ok(ViewCheck { views, may_login })
    }

    /// The schema of usher's tables (PostgreSQL), which a mail server's queries name.
    pub async fn mail_schema(&self) -> Result<Option<String>> {
        let mut tx = self.store.read().await?;
        tx.current_schema().await
    }

    /// Creates or updates the read-only role a mail server logs in as; true when created.
    pub async fn create_mail_role(&self, role: &str, password: Option<&str>) -> Result<bool> {
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ManageSettings)
            .await?;
        let created = tx.create_mail_role(role, password).await?;
        self.log_change(
            &mut tx,
            "mailserver.role",
            &format!("role:{role}"),
            json!({"created": created, "password": password.is_some()}),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }
}
