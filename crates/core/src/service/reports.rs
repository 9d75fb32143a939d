//! The users and invitations reports (docs/rules.md#reports): every field, roles and
//! invitation status included, read a page at a time inside one read transaction (a
//! consistent snapshot) and handed to a `Sink`, with progress after each page.

use std::collections::HashMap;

use super::Usher;
use crate::domain::{Permission, Timestamp};
use crate::error::Result;
use crate::report::Sink;
use crate::store::{Grant, Invitation, User};

/// Rows read per query.
const PAGE: i64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Users,
    Invitations,
}

impl std::str::FromStr for ReportKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "users" => Ok(Self::Users),
            "invitations" => Ok(Self::Invitations),
            other => Err(crate::Error::invalid(
                "report",
                format!("'{other}' is not users or invitations"),
            )),
        }
    }
}

impl ReportKind {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Users => &crate::report::USER_COLUMNS,
            Self::Invitations => &crate::report::INVITATION_COLUMNS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Invitations => "invitations",
        }
    }
}

/// Progress of a report: rows written and rows in all.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

fn time(ms: Option<i64>) -> String {
    ms.map(|t| Timestamp(t).rfc3339()).unwrap_or_default()
}

/// A holder's grants as (account roles, account permissions, mailbox grants), each
/// joined with "; ".
fn grant_columns(grants: &[&Grant]) -> [String; 3] {
    let join = |f: &dyn Fn(&Grant) -> Option<String>| {
        grants
            .iter()
            .filter_map(|g| f(g))
            .collect::<Vec<_>>()
            .join("; ")
    };
    [
        join(&|g| g.mailbox.is_none().then(|| g.role.clone()).flatten()),
        join(&|g| g.mailbox.is_none().then(|| g.permission.clone()).flatten()),
        join(&|g| g.mailbox.is_some().then(|| g.label())),
    ]
}

fn user_row(u: &User, grants: &[&Grant], inv: Option<&Invitation>) -> Vec<String> {
    let [roles, permissions, mailboxes] = grant_columns(grants);
    vec![
        u.id.to_string(),
        u.email_display.clone(),
        u.first_name.clone(),
        u.last_name.clone(),
        u.display_name.clone(),
        u.user_type.to_string(),
        u.status.to_string(),
        u.unique_ref.clone().unwrap_or_default(),
        time(Some(u.created_at)),
        time(Some(u.updated_at)),
        roles,
        permissions,
        mailboxes,
        inv.map(|i| i.status.to_string()).unwrap_or_default(),
        time(inv.map(|i| i.created_at)),
        time(inv.and_then(|i| i.accepted_at.or(i.declined_at))),
    ]
}

fn invitation_row(i: &Invitation, grants: &[&Grant]) -> Vec<String> {
    let [roles, permissions, mailboxes] = grant_columns(grants);
    let permissions = [permissions, mailboxes]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    vec![
        i.id.to_string(),
        i.email_display.clone(),
        i.first_name.clone(),
        i.last_name.clone(),
        i.user_type.to_string(),
        i.status.to_string(),
        i.inviter.clone(),
        time(Some(i.created_at)),
        time(i.sent_at),
        time(Some(i.expires_at)),
        time(i.accepted_at),
        time(i.declined_at),
        time(i.revoked_at),
        i.resend_count.to_string(),
        i.delivery.map(|d| d.to_string()).unwrap_or_default(),
        i.last_error.clone().unwrap_or_default(),
        roles,
        permissions,
    ]
}

impl Usher {
    /// Writes a report into `sink` (needs `reports.view`); returns the rows written. The
    /// caller finishes the sink, so a failure leaves no file behind.
    pub async fn write_report(
        &self,
        kind: ReportKind,
        sink: &mut dyn Sink,
        progress: Progress<'_>,
    ) -> Result<u64> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        let mut done = 0u64;
        match kind {
            ReportKind::Users => {
                let total = u64::try_from(tx.count_users(account.id).await?).unwrap_or(0);
                let mut after = String::new();
                loop {
                    let users = tx.list_users(account.id, "", &after, false, PAGE).await?;
                    let Some(last) = users.last().map(|u| u.email.clone()) else {
                        break;
                    };
                    let grants = tx
                        .grants_of_users_between(account.id, &after, &last)
                        .await?;
                    let mut by_user: HashMap<i64, Vec<&Grant>> = HashMap::new();
                    for g in &grants {
                        if let Some(id) = g.user_id {
                            by_user.entry(id).or_default().push(g);
                        }
                    }
                    let invitations = tx
                        .invitations_between(account.id, &after, &last, now)
                        .await?;
                    // Newest last, so the map keeps each address's latest invitation.
                    let latest: HashMap<&str, &Invitation> =
                        invitations.iter().map(|i| (i.email.as_str(), i)).collect();
                    for u in &users {
                        let g = by_user.get(&u.id).map_or(&[][..], Vec::as_slice);
                        sink.row(&user_row(u, g, latest.get(u.email.as_str()).copied()))?;
                    }
                    done += users.len() as u64;
                    progress(done, total.max(done));
                    after = last;
                }
            }
            ReportKind::Invitations => {
                let total = u64::try_from(tx.count_invitations(account.id).await?).unwrap_or(0);
                let mut after = 0i64;
                loop {
                    let page = tx.invitations_after(account.id, after, PAGE, now).await?;
                    let Some(last) = page.last().map(|i| i.id) else {
                        break;
                    };
                    let grants = tx
                        .grants_of_invitations_between(account.id, after, last)
                        .await?;
                    let mut by_inv: HashMap<i64, Vec<&Grant>> = HashMap::new();
                    for g in &grants {
                        if let Some(id) = g.invitation_id {
                            by_inv.entry(id).or_default().push(g);
                        }
                    }
                    for i in &page {
                        let g = by_inv.get(&i.id).map_or(&[][..], Vec::as_slice);
                        sink.row(&invitation_row(i, g))?;
                    }
                    done += page.len() as u64;
                    progress(done, total.max(done));
                    after = last;
                }
            }
        }
        Ok(done)
    }
}

/// Largest report usher mails: most relays refuse messages much over 25 MB, and base64
/// adds a third.
pub const MAIL_MAX_BYTES: usize = 15 * 1024 * 1024;

impl Usher {
    /// Queues a report file as an attachment to `to` (air-gapped sites have no download
    /// link); returns the outbox id. Needs `reports.view`.
    pub async fn mail_report(
        &self,
        to: &str,
        kind: ReportKind,
        file: crate::mail::compose::Attachment,
        rows: u64,
    ) -> Result<i64> {
        let to = super::parse_one(to)?;
        if file.bytes.len() > MAIL_MAX_BYTES {
            return Err(crate::Error::invalid(
                "email",
                format!(
                    "the report is {} MiB, over the {} MiB usher mails; write it to a file with -o instead",
                    file.bytes.len() / (1024 * 1024),
                    MAIL_MAX_BYTES / (1024 * 1024)
                ),
            ));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::ViewReports)
            .await?;
        let subject = format!("{} report for {}", kind.name(), account.name);
        let bytes = file.bytes.len();
        let body = format!(
            "The {} report of {}, {} row(s), made {} by {}, is attached as {}.\n",
            kind.name(),
            account.name,
            rows,
            now.human(),
            self.actor.name,
            file.filename
        );
        let m = crate::mail::compose::compose_with_extras(
            &self.settings.from,
            "",
            to.display(),
            &crate::mail::template::Rendered {
                subject,
                body,
                html: None,
            },
            now,
            crate::mail::compose::new_message_id(&self.settings.from)?,
            &crate::mail::compose::Extras {
                attachments: vec![file],
                ..Default::default()
            },
        )?;
        let id = tx
            .insert_message(&crate::store::NewMessage {
                account_id: account.id,
                kind: "report",
                message_id: &m.message_id,
                env_from: &m.env_from,
                env_to: &m.env_to.join(","),
                subject: &m.subject,
                raw: &m.raw,
                now,
            })
            .await?;
        tx.append_audit(&crate::store::NewAudit {
            at: now,
            actor: &self.actor,
            action: "report.mail",
            target: &format!("report:{} {}", kind.name(), to.canonical()),
            details: serde_json::json!({"rows": rows, "bytes": bytes, "outbox": id}),
        })
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
