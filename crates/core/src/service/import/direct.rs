//! A sync's new people created directly (docs/sync.md#the-plan), a chunk at a time: the
//! users in one statement, their change records and audit entries in one each, and each
//! one's link to choose a password with its mail, in one statement each on PostgreSQL.

use std::collections::HashMap;

use serde_json::json;

use super::edits::{Edits, Logged};
use crate::domain::{Token, UserStatus, UserType};
use crate::error::Result;
use crate::import::ImportRow;
use crate::service::password::{WELCOME_LINK_MS, Welcome};
use crate::store::{BulkUser, NewLink, NewMessage, Tx};

/// Users per chunk.
const CHUNK: usize = 5_000;

impl Edits<'_> {
    /// Creates these people, each with the type the apply gave them. Returns how many.
    pub(super) async fn create_direct(
        &self,
        tx: &mut Tx,
        people: &[(&ImportRow, UserType)],
    ) -> Result<usize> {
        let mut done = 0;
        let templates = self.usher.templates_in(tx, self.account.id).await?;
        for chunk in people.chunks(CHUNK) {
            let after = tx.max_user_id().await?;
            let users: Vec<BulkUser> = chunk
                .iter()
                .map(|(r, t)| BulkUser {
                    email: r.email().to_owned(),
                    email_display: r.email_display().to_owned(),
                    first_name: r.first_name().to_owned(),
                    last_name: r.last_name().to_owned(),
                    unique_ref: r.unique_ref().map(str::to_owned),
                    user_type: *t,
                    status: UserStatus::Active,
                })
                .collect();
            tx.insert_users_bulk(self.account.id, &users, self.now)
                .await?;
            let ids: HashMap<String, i64> = tx
                .users_after(self.account.id, after)
                .await?
                .into_iter()
                .map(|(id, email)| (email, id))
                .collect();
            let made: Vec<(i64, &ImportRow, UserType)> = chunk
                .iter()
                .filter_map(|(r, t)| ids.get(r.email()).map(|id| (*id, *r, *t)))
                .collect();
            self.log_created(tx, &made).await?;
            self.welcome(tx, &templates, &made).await?;
            done += made.len();
        }
        Ok(done)
    }

    /// The change records (undo removes them) and audit entries of the users made.
    async fn log_created(&self, tx: &mut Tx, made: &[(i64, &ImportRow, UserType)]) -> Result<()> {
        let logged = made
            .iter()
            .map(|(id, r, t)| Logged {
                id: *id,
                before: "{}".to_owned(),
                target: format!("user:{id} {}", r.email()),
                details: json!({"batch": self.batch, "user_type": t, "with_password": false,
                                "corporate": true, "welcome_link": true}),
            })
            .collect();
        self.log(tx, "create", "user.create", logged).await
    }

    /// Each new user's link to choose a password, and its mail.
    async fn welcome(
        &self,
        tx: &mut Tx,
        templates: &crate::mail::Templates,
        made: &[(i64, &ImportRow, UserType)],
    ) -> Result<()> {
        let expires_at = self.now.plus_ms(WELCOME_LINK_MS);
        let by = &self.usher.actor().name;
        let mut links = Vec::with_capacity(made.len());
        let mut mail = Vec::with_capacity(made.len());
        for (id, r, _) in made {
            let token = Token::generate()?;
            links.push(NewLink {
                user_id: *id,
                token_hash: token.hash(),
                expires_at: expires_at.0,
            });
            mail.push(self.usher.welcome_mail(
                templates,
                &Welcome {
                    org: &self.account.name,
                    first_name: r.first_name(),
                    last_name: r.last_name(),
                    email: r.email_display(),
                    token: &token,
                    expires_at,
                    by,
                },
            )?);
        }
        tx.insert_links_bulk(self.account.id, by, self.now.0, &links)
            .await?;
        let messages: Vec<NewMessage<'_>> = mail
            .iter()
            .map(|m| NewMessage {
                account_id: self.account.id,
                kind: crate::mail::TemplateName::PasswordReset.outbox_kind(),
                message_id: &m.message_id,
                env_from: &m.env_from,
                env_to: &m.env_to,
                subject: &m.subject,
                raw: &m.raw,
                now: self.now,
            })
            .collect();
        tx.insert_messages_bulk(&messages).await
    }
}
