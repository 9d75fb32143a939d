//! Use cases. Each takes the acting admin (`Actor`) from the `Usher` it runs on, does its
//! work in one transaction and writes its audit row in that same transaction.

mod access;
mod after_change;
mod audit_verify;
mod corporate;
mod domains;
mod enrol;
mod import;
mod init;
mod invite;
mod invite_input;
mod mailboxes;
mod mailserver;
mod notify;
mod operators;
mod password;
mod queries;
mod register;
mod remind;
mod reports;
mod resend;
mod roles;
mod sync;
mod templates;
mod users;

use std::sync::Arc;

use lettre::message::Mailbox;

use crate::config::Config;
use crate::domain::sanitize::has_unsafe_chars;
use crate::domain::{Actor, Clock, Email};
use crate::error::{Error, Result};
use crate::mail::Templates;
use crate::mail::compose::mailbox;
use crate::store::{Account, Store, Tx};

pub use access::Operator;
pub use audit_verify::{AnchorState, AuditCheck};
pub use corporate::NewCorporateUser;
pub use domains::{DomainView, Verify};
pub use enrol::{EnrolPage, Enrolment, check_new_password, enrol_min_password};
pub use import::{ApplyOptions, ApplyOutcome, Losses, Missing, UndoOutcome};
pub use init::InitRequest;
pub use invite::{InviteOptions, InviteOutcome, InviteRequest, Invited};
pub use invite_input::{InputError, InviteField, InviteInput};
pub use mailserver::ViewCheck;
pub use operators::identity_name;
pub use password::{RESET_LINK_MS, ResetPage};
pub use queries::Status;
pub use register::RegisterPage;
pub use reports::{Progress, ReportKind};
pub use resend::Target;
pub use roles::{RoleDetail, RoleSpec, RoleView, Who};
pub use sync::{Due, RunOptions, RunOutcome, SourceStatus, SyncReport, Tripped, tripped};
pub use templates::TemplateView;
pub use users::UserDetail;

/// The core: everything a front end (CLI, console, enrolment server) may ask for.
#[derive(Debug, Clone)]
pub struct Usher {
    store: Store,
    clock: Arc<dyn Clock>,
    actor: Actor,
    settings: Arc<Settings>,
}

/// What the use cases need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_url: String,
    pub from: Mailbox,
    pub account: Option<String>,
    pub templates: Arc<Templates>,
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// Who hears of an answered invitation whose inviter is not a mail address.
    pub notify_fallback: Option<String>,
    /// How long before expiry a reminder is due, in milliseconds; None: never.
    pub reminder_lead_ms: Option<i64>,
    pub registration_link_ms: i64,
    /// The files of one invitation, in bytes in all.
    pub attachment_max_bytes: usize,
    /// Passwords refused on top of the bundled common ones, lower-cased.
    pub banned_passwords: std::collections::HashSet<String>,
    /// What runs after a change the mail server must see at once.
    pub after_change: crate::config::AfterChange,
}

impl Settings {
    pub fn from_config(c: &Config) -> Result<Self> {
        Ok(Self {
            public_url: c.public_url.clone(),
            from: mailbox(c.mail.from_name.as_deref(), &c.mail.from)?,
            account: c.account.clone(),
            templates: Arc::new(Templates::builtin()?),
            dns_servers: c.dns_servers.clone(),
            notify_fallback: c.serve.notify_fallback.clone(),
            attachment_max_bytes: c.mail.attachment_max_kib.saturating_mul(1024),
            reminder_lead_ms: c
                .serve
                .reminder_hours_before
                .map(|h| i64::try_from(h).unwrap_or(i64::MAX / 4) * 3_600_000),
            registration_link_ms: i64::try_from(c.serve.registration_link_hours).unwrap_or(24)
                * 3_600_000,
            // Read by `usher serve` only, which enrols (see `with_banned_passwords`).
            banned_passwords: Default::default(),
            after_change: c.after_change.clone(),
        })
    }
}

impl Usher {
    /// What a mail sender needs to render the drafts this service queues.
    pub fn renderer(&self) -> Arc<crate::mail::Renderer> {
        Arc::new(crate::mail::Renderer::new(
            self.settings.templates.clone(),
            self.settings.from.clone(),
        ))
    }

    pub fn new(store: Store, clock: Arc<dyn Clock>, actor: Actor, settings: Settings) -> Self {
        Self {
            store,
            clock,
            actor,
            settings: Arc::new(settings),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The same core refusing these passwords (lower-cased) besides the common ones.
    pub fn with_banned_passwords(&self, banned: std::collections::HashSet<String>) -> Self {
        let mut settings = (*self.settings).clone();
        settings.banned_passwords = banned;
        Self {
            settings: Arc::new(settings),
            ..self.clone()
        }
    }

    /// The same core acting as someone else (for tests and, later, the enrolment server).
    pub fn with_actor(&self, actor: Actor) -> Self {
        Self {
            actor,
            ..self.clone()
        }
    }

    /// The account this usher works on: the configured one, else the only one.
    async fn account_in(&self, tx: &mut Tx) -> Result<Account> {
        let accounts = tx.accounts().await?;
        match &self.settings.account {
            Some(name) => accounts
                .into_iter()
                .find(|a| &a.name == name)
                .ok_or_else(|| Error::NotFound(format!("account '{name}'"))),
            None => match accounts.len() {
                0 => Err(Error::NoAccount),
                1 => accounts.into_iter().next().ok_or(Error::NoAccount),
                _ => Err(Error::AmbiguousAccount(
                    accounts
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }

    pub async fn account(&self) -> Result<Account> {
        let mut tx = self.store.read().await?;
        self.account_in(&mut tx).await
    }

    /// Where `usher serve` is reached (the base of every link).
    pub fn public_url(&self) -> &str {
        &self.settings.public_url
    }

    fn link(&self, token: &str) -> String {
        enrol_link(&self.settings.public_url, token)
    }
}

/// The enrolment page of a token, under the public address.
fn enrol_link(public_url: &str, token: &str) -> String {
    format!("{public_url}/enrol/{token}")
}

/// A person's name as typed: refused (not silently altered) when it holds control
/// characters, so that what is stored is exactly what the operator meant.
pub(crate) fn check_name(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim();
    if has_unsafe_chars(v) {
        return Err(Error::invalid(
            field,
            format!(
                "'{}' contains control or invisible characters",
                crate::domain::sanitize::escape_for_display(v)
            ),
        ));
    }
    if v.chars().count() > 100 {
        return Err(Error::invalid(field, "longer than 100 characters"));
    }
    Ok(v.to_owned())
}

/// Parses one address for a lookup (resend, revoke).
pub(crate) fn parse_one(address: &str) -> Result<Email> {
    Ok(Email::parse(address)?)
}
