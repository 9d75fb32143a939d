//! Inviting: licences checked, duplicates refused, invitation and mail written together.

use serde::Serialize;
use serde_json::json;

use super::{Usher, check_name};
use crate::domain::licence::Seats;
use crate::domain::{Email, InvitationStatus, Permission, Timestamp, Token, UserType};
use crate::error::{Clash, Error, Result};
use crate::mail::InvitationVars;
use crate::store::{Account, Invitation, NewAudit, NewInvitation, NewMessage, Tx};

#[derive(Debug, Clone)]
pub struct InviteRequest {
    pub addresses: Vec<Email>,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    /// Overrides the account's validity for this invitation.
    pub expires_in_days: Option<i64>,
    /// This invitation's own subject and message (minijinja source, like the templates).
    pub subject: Option<String>,
    pub message: Option<String>,
    /// Copies and files for this invitation's message (docs/rules.md#invitations).
    pub options: InviteOptions,
}

/// An invitation's options: copies to others and attached files. They travel with
/// this message only; a resend or a reminder carries neither.
#[derive(Debug, Clone, Default)]
pub struct InviteOptions {
    pub cc: Vec<Email>,
    pub bcc: Vec<Email>,
    pub attachments: Vec<crate::mail::compose::Attachment>,
    /// Files to attach, read by `invite` off the caller's thread, each refused before it
    /// is read if it is over the limit.
    pub files: Vec<std::path::PathBuf>,
}

/// Files at most per invitation, and their size in all.
pub const MAX_ATTACHMENTS: usize = 10;

impl InviteOptions {
    /// Refuses more files or bytes than the limit, naming the file that crosses it.
    pub fn check(&self, max_bytes: usize) -> Result<()> {
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} files"),
            ));
        }
        let mut total = 0usize;
        for a in &self.attachments {
            total += a.bytes.len();
            if total > max_bytes {
                return Err(Error::invalid(
                    "attachments",
                    format!(
                        "{} takes the files over {} KiB in all",
                        crate::domain::sanitize::escape_for_display(&a.filename),
                        max_bytes / 1024
                    ),
                ));
            }
        }
        Ok(())
    }

    fn extras(&self) -> crate::mail::compose::Extras {
        crate::mail::compose::Extras {
            cc: self.cc.iter().map(|e| e.display().to_owned()).collect(),
            bcc: self.bcc.iter().map(|e| e.display().to_owned()).collect(),
            attachments: self.attachments.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Invited {
    pub id: i64,
    pub email: String,
    /// True when an expired invitation for this address was renewed instead of a new row.
    pub renewed: bool,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InviteOutcome {
    pub invited: Vec<Invited>,
}

/// What every invitation of one request shares.
struct One<'a> {
    account: &'a Account,
    templates: &'a crate::mail::Templates,
    req: &'a InviteRequest,
    options: &'a InviteOptions,
    first: &'a str,
    last: &'a str,
    now: Timestamp,
    days: i64,
    expires_at: Timestamp,
}

/// For each address: a new invitation, or an expired one renewed. A user or a pending
/// invitation refuses the whole request, naming every such address.
async fn plan_addresses(
    tx: &mut Tx,
    account: &Account,
    addresses: &[Email],
    now: Timestamp,
) -> Result<Vec<Plan>> {
    let mut plans = Vec::with_capacity(addresses.len());
    let mut refusals = Vec::new();
    for email in addresses {
        if tx
            .user_by_email(account.id, email.canonical())
            .await?
            .is_some()
        {
            refusals.push(format!("{email} is already a user"));
            continue;
        }
        match tx.invitation_for_email(account.id, email.canonical(), now).await? {
            Some(inv) if inv.status == InvitationStatus::Pending => refusals.push(format!(
                "{email} already has a pending invitation (id {}, expires {}); resend it with `usher invitations resend {}`",
                inv.id,
                Timestamp(inv.expires_at).human(),
                inv.id
            )),
            Some(inv) if inv.status == InvitationStatus::Expired => plans.push(Plan::Renew(Box::new(inv))),
            _ => plans.push(Plan::New(email.clone())),
        }
    }
    if !refusals.is_empty() {
        return Err(Error::conflict(Clash::Exists, refusals.join("; ")));
    }
    Ok(plans)
}

/// What to write for one address.
enum Plan {
    New(Email),
    Renew(Box<Invitation>),
}

/// The fields of an invitation mail.
pub(super) struct MailFor<'a> {
    pub invitation_id: i64,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub previous_outbox: Option<i64>,
    pub days: i64,
    pub expires_at: Timestamp,
    pub subject: Option<&'a str>,
    pub message: Option<&'a str>,
    pub options: Option<&'a InviteOptions>,
}

impl Usher {
    /// Invites every address in the request, or none: any refusal (a bad name, an
    /// existing user, a pending invitation, too few licences) leaves the database as it was.
    pub async fn invite(&self, req: &InviteRequest) -> Result<InviteOutcome> {
        let (first, last) = self.check_request(req)?;
        let options = self.with_files(&req.options).await?;
        options.check(self.settings.attachment_max_bytes)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let account = self.account_in(&mut tx).await?;
        self.require(&mut tx, &account, Permission::InviteUsers)
            .await?;
        self.may_invite(&mut tx, &account).await?;
        tx.lock_account(account.id).await?;
        // Read once for every address of the request.
        let templates = self.templates_in(&mut tx, account.id).await?;
        let plans = plan_addresses(&mut tx, &account, &req.addresses, now).await?;
        if req.user_type == UserType::Professional {
            seats(&mut tx, &account, now)
                .await?
                .check(i64::try_from(plans.len()).unwrap_or(i64::MAX))?;
        }
        let days = req.expires_in_days.unwrap_or(account.invite_validity_days);
        let one = One {
            account: &account,
            templates: &templates,
            req,
            options: &options,
            first: &first,
            last: &last,
            now,
            days,
            expires_at: now.plus_days(days),
        };
        let mut invited = Vec::with_capacity(plans.len());
        for plan in plans {
            invited.push(self.invite_one(&mut tx, &one, plan).await?);
        }
        tx.commit().await?;
        Ok(InviteOutcome { invited })
    }

    /// The request's names, checked with its validity and its own subject and message.
    fn check_request(&self, req: &InviteRequest) -> Result<(String, String)> {
        if req.addresses.is_empty() {
            return Err(Error::invalid("to", "no address given"));
        }
        let first = check_name("first name", &req.first_name)?;
        let last = check_name("last name", &req.last_name)?;
        if let Some(d) = req.expires_in_days
            && !crate::domain::VALIDITY_DAYS.contains(&d)
        {
            return Err(Error::invalid(
                "expires in",
                format!(
                    "must be a number of days {}",
                    crate::domain::validity_days_said()
                ),
            ));
        }
        self.settings
            .templates
            .check_custom(req.subject.as_deref(), req.message.as_deref())?;
        Ok((first, last))
    }

    /// Writes one invitation (or renews an expired one), queues its mail and audits it.
    async fn invite_one(&self, tx: &mut Tx, one: &One<'_>, plan: Plan) -> Result<Invited> {
        let One {
            account,
            templates,
            req,
            options,
            first,
            last,
            now,
            days,
            expires_at,
        } = *one;
        let token = Token::generate()?;
        let (id, email, previous, renewed) = match plan {
            Plan::New(email) => {
                let id = tx
                    .insert_invitation(&NewInvitation {
                        account_id: account.id,
                        email: email.canonical(),
                        email_display: email.display(),
                        first_name: first,
                        last_name: last,
                        user_type: req.user_type,
                        inviter: &self.actor.name,
                        token_hash: &token.hash(),
                        now,
                        expires_at,
                    })
                    .await?;
                (id, email.display().to_owned(), None, false)
            }
            Plan::Renew(inv) => {
                tx.renew_invitation(inv.id, &token.hash(), expires_at)
                    .await?;
                (inv.id, inv.email_display, inv.outbox_id, true)
            }
        };
        self.queue_invitation_mail(
            tx,
            account,
            templates,
            &MailFor {
                invitation_id: id,
                email: &email,
                first_name: first,
                last_name: last,
                previous_outbox: previous,
                days,
                expires_at,
                subject: req.subject.as_deref(),
                message: req.message.as_deref(),
                options: Some(options),
            },
            &token,
        )
        .await?;
        tx.append_audit(&NewAudit {
            at: now,
            actor: &self.actor,
            action: if renewed {
                "invitation.resend"
            } else {
                "invitation.create"
            },
            target: &format!("invitation:{id} {email}"),
            details: json!({
                "user_type": req.user_type,
                "expires_at": expires_at.rfc3339(),
                "renewed_expired": renewed,
            }),
        })
        .await?;
        Ok(Invited {
            id,
            email,
            renewed,
            expires_at: expires_at.rfc3339(),
        })
    }

    /// What every invitation of an account is given alike; the recipient's own fields
    /// are left empty.
    pub(super) fn invitation_base(
        &self,
        account: &Account,
        expires_at: Timestamp,
        days: i64,
    ) -> InvitationVars {
        InvitationVars {
            org: account.name.clone(),
            inviter_name: self.actor.name.trim_start_matches("os:").to_owned(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            link: String::new(),
            expires: expires_at.human(),
            validity_days: days,
        }
    }

    /// What the invitation template is given.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn invitation_vars(
        &self,
        account: &Account,
        email: &str,
        first_name: &str,
        last_name: &str,
        token: &Token,
        expires_at: Timestamp,
        days: i64,
    ) -> InvitationVars {
        InvitationVars {
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            email: email.to_owned(),
            link: self.link(token.plain()),
            ..self.invitation_base(account, expires_at, days)
        }
    }

    /// Renders the invitation mail, queues it, points the invitation at it and withdraws
    /// the message it replaces (so an old link is never mailed after a resend).
    pub(super) async fn queue_invitation_mail(
        &self,
        tx: &mut Tx,
        account: &Account,
        templates: &crate::mail::Templates,
        m: &MailFor<'_>,
        token: &Token,
    ) -> Result<()> {
        let vars = self.invitation_vars(
            account,
            m.email,
            m.first_name,
            m.last_name,
            token,
            m.expires_at,
            m.days,
        );
        let rendered = templates.invitation_custom(m.subject, m.message, &vars)?;
        let to_name = format!("{} {}", m.first_name, m.last_name);
        let composed = crate::mail::compose::compose_with_extras(
            &self.settings.from,
            to_name.trim(),
            m.email,
            &rendered,
            self.clock.now(),
            crate::mail::compose::new_message_id(&self.settings.from)?,
            &m.options.map(InviteOptions::extras).unwrap_or_default(),
        )?;
        let outbox_id = tx
            .insert_message(&NewMessage {
                account_id: account.id,
                kind: "invitation",
                message_id: &composed.message_id,
                env_from: &composed.env_from,
                env_to: &composed.env_to.join(","),
                subject: &composed.subject,
                raw: &composed.raw,
                now: self.clock.now(),
            })
            .await?;
        if let Some(prev) = m.previous_outbox {
            tx.cancel_message(prev).await?;
        }
        tx.set_invitation_outbox(m.invitation_id, outbox_id).await
    }
}

/// Seats in use now, read inside the caller's (locked) transaction.
pub(super) async fn seats(tx: &mut Tx, account: &Account, now: Timestamp) -> Result<Seats> {
    let used = tx.count_active_professionals(account.id).await?
        + tx.count_pending_professional(account.id, now).await?;
    Ok(Seats {
        used,
        total: account.licences,
    })
}

impl Usher {
    /// The options with their files read (on a blocking thread) into attachments.
    async fn with_files(&self, options: &InviteOptions) -> Result<InviteOptions> {
        let mut out = options.clone();
        if options.files.len() + options.attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} files"),
            ));
        }
        let max = self.settings.attachment_max_bytes;
        for path in std::mem::take(&mut out.files) {
            let read = tokio::task::spawn_blocking(move || {
                crate::mail::compose::Attachment::from_file(&path, max)
            })
            .await
            .map_err(|e| Error::Task(format!("reading an attachment: {e}")))??;
            out.attachments.push(read);
        }
        Ok(out)
    }
}
