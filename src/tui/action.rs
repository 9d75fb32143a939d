//! What flows into the app (keys, results) and what it asks the worker to do.

use crossterm::event::KeyEvent;

use crate::domain::UserType;
use crate::service::{InviteRequest, Status, UserDetail};
use crate::store::{Invitation, InvitationFilter, User};

/// Results carry the generation of the request that asked for them; the app drops any
/// that are older than its latest request, so a slow answer to an old search never
/// overwrites a newer one.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Resize,
    /// Time passes: spinner, "expires in", and a refresh every few ticks.
    Tick(crate::domain::Timestamp),
    Status(Result<Status, String>),
    /// A request failed because the database went away (sent beside its own result).
    ConnectionLost(String),
    Invitations {
        generation: u64,
        result: Result<Vec<Invitation>, String>,
    },
    Users {
        generation: u64,
        page: UserPage,
        result: Result<Vec<User>, String>,
    },
    UserDetail {
        generation: u64,
        result: Result<UserDetail, String>,
    },
    /// The outcome of a change, for the status line; a success reloads the views.
    Done(Result<String, String>),
    /// A question to put to the operator, once what it names has been read.
    Ask(crate::tui::tabs::Ask),
    ImportPreview {
        generation: u64,
        result: Result<crate::tui::tabs::import::Review, String>,
    },
    ImportHistory(Result<Vec<crate::store::Batch>, String>),
    /// The columns of a file whose columns were not recognised, for the mapping prompt.
    ImportColumns {
        generation: u64,
        headers: Vec<String>,
    },
    Roles {
        generation: u64,
        result: Result<Vec<crate::service::RoleView>, String>,
    },
    Role {
        generation: u64,
        result: Result<crate::service::RoleDetail, String>,
    },
    Domains(Result<(Vec<crate::service::DomainView>, Vec<crate::store::Mailbox>), String>),
    /// What the operator may do, so the console can hide the rest.
    Operator(Result<crate::service::Operator, String>),
    /// How far a report has got: rows written, rows in all.
    ReportProgress {
        done: u64,
        total: u64,
    },
    /// The account's templates, for the editor to open on `name`.
    Templates {
        name: crate::mail::TemplateName,
        result: Result<Vec<crate::service::TemplateView>, String>,
    },
    /// A report finished (what to say) or failed.
    ReportDone(Result<String, String>),
    /// How far reading or applying an import has got.
    ImportProgress {
        stage: crate::import::Stage,
        done: u64,
        total: Option<u64>,
    },
}

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
    LoadTemplates(crate::mail::TemplateName),
    SaveTemplate {
        name: crate::mail::TemplateName,
        subject: String,
        body: String,
        html: Option<String>,
    },
    ResetTemplate(crate::mail::TemplateName),
    /// Write a report to a file (a path with ~ for the home directory).
    Report {
        kind: crate::service::ReportKind,
        format: crate::report::Format,
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
    Reactivate(Vec<i64>),
    Remove(Vec<i64>),
    /// Put text on the terminal's clipboard (OSC 52); done by the terminal layer.
    Copy(String),
    PreviewImport {
        generation: u64,
        path: String,
        /// Columns named by the operator (the mapping step); the rest are recognised.
        mapping: Vec<(crate::import::Field, String)>,
    },
    ApplyImport {
        /// The file read, for writing its faulty rows beside it when they are left out.
        path: String,
        parsed: std::sync::Arc<crate::import::Parsed>,
        opts: Box<crate::service::ApplyOptions>,
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
    SaveRole(crate::tui::role_form::Save),
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
    CreateUser(Box<crate::service::NewCorporateUser>),
    LoadDomains,
    AddDomain(String),
    VerifyDomain {
        name: String,
        how: crate::service::Verify,
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
