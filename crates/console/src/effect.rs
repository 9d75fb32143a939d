//! What the app asks the worker (or the terminal layer) to do, and the questions it puts
//! before the dangerous ones.

use std::sync::Arc;

use usher_core::domain::{Scope, UserType};
use usher_core::import::Parsed;
use usher_core::import::plan::Plan;
use usher_core::service::{InviteRequest, RoleSpec};
use usher_core::store::InvitationFilter;

/// Which page of users, in address order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPage {
    First,
    /// From this address on, inclusive: a refresh that keeps the window where it is.
    From(String),
    After(String),
    Before(String),
    Last,
}

#[derive(Debug, Clone)]
pub enum Effect {
    /// Load the templates and open the editor on one.
    LoadTemplates(usher_core::mail::TemplateName),
    SaveTemplate {
        name: usher_core::mail::TemplateName,
        subject: String,
        body: String,
        html: Option<String>,
    },
    ResetTemplate(usher_core::mail::TemplateName),
    /// Write a report to a file (a path with ~ for the home directory).
    Report {
        kind: usher_core::service::ReportKind,
        format: usher_core::report::Format,
        path: String,
    },
    LoadStatus,
    LoadInvitations {
        generation: u64,
        filter: InvitationFilter,
    },
    LoadUsers {
        generation: u64,
        search: String,
        page: UserPage,
        limit: i64,
    },
    LoadUserDetail {
        generation: u64,
        id: i64,
    },
    Invite(Box<InviteRequest>),
    Resend(Vec<i64>),
    /// Count the expired invitations and ask before resending them all.
    AskResendExpired,
    ResendExpired,
    Revoke(Vec<i64>),
    /// Users changed in one transaction each: all or none.
    SetUserType(Vec<i64>, UserType),
    Suspend(Vec<i64>),
    /// Mail each user a link to choose a new password.
    SendPasswordReset(Vec<i64>),
    Reactivate(Vec<i64>),
    Remove(Vec<i64>),
    /// Put text on the terminal's clipboard (OSC 52); done by the terminal layer.
    Copy(String),
    PreviewImport {
        generation: u64,
        path: String,
        /// Columns named by the operator (the mapping step); the rest are recognised.
        mapping: Vec<(usher_core::import::Field, String)>,
    },
    ApplyImport {
        /// The file read, for writing its faulty rows beside it when they are left out.
        path: String,
        parsed: std::sync::Arc<usher_core::import::Parsed>,
        opts: Box<usher_core::service::ApplyOptions>,
    },
    UndoImport(i64),
    LoadImportHistory,
    LoadOperator,
    LoadRoles {
        generation: u64,
    },
    LoadRole {
        generation: u64,
        name: String,
    },
    SaveRole(crate::role_form::Save),
    DeleteRole {
        name: String,
    },
    /// Grant (or revoke) a role's name or a permission's key to a user, for the account
    /// or one mailbox.
    Grant {
        user_id: i64,
        what: String,
        mailbox: Option<String>,
        revoke: bool,
    },
    PersonalMailbox(i64),
    CreateUser(Box<usher_core::service::NewCorporateUser>),
    LoadDomains,
    /// Each directory source's standing.
    LoadSync,
    /// `usher sync NAME --dry-run`.
    SyncPreview {
        name: String,
    },
    /// `usher sync NAME --apply [--approve RUN]`.
    SyncApply {
        name: String,
        approve: Option<i64>,
    },
    AddDomain(String),
    VerifyDomain {
        name: String,
        how: usher_core::service::Verify,
    },
    SetDomainActive {
        name: String,
        active: bool,
    },
    NewMailbox {
        address: String,
        name: String,
    },
}

/// Removing more users than this asks for their count to be typed, not just `y`.
pub const TYPE_THE_COUNT_ABOVE: usize = 5;

/// A question before an action: what it will touch, and, for the largest removals, the
/// text the operator must type to go on. The safe answer is the default.
#[derive(Debug, Clone)]
pub struct Ask {
    pub prompt: String,
    pub effect: Effect,
    /// What must be typed (the count) before Enter goes on; `y` alone does not.
    pub typed: Option<String>,
}

impl Ask {
    pub fn new(prompt: impl Into<String>, effect: Effect) -> Self {
        Self {
            prompt: prompt.into(),
            effect,
            typed: None,
        }
    }

    /// Removals of more than a handful ask for the count to be typed.
    pub fn removing(mut self, count: usize) -> Self {
        if count > TYPE_THE_COUNT_ABOVE {
            self.typed = Some(count.to_string());
        }
        self
    }
}

/// A file read and planned, waiting for the operator's decisions.
#[derive(Debug, Clone)]
pub struct Review {
    pub path: String,
    /// The file's SHA-256, taken by the worker when it read the file.
    pub sha256: String,
    pub parsed: Arc<Parsed>,
    pub plan: Arc<Plan>,
}

/// What the form asks the core for: a new role, or a change to the role named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Save {
    Create(Scope, RoleSpec),
    Edit(String, RoleSpec),
}
