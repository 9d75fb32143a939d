//! What flows into the app (keys, results) and what it asks the worker to do.

use crossterm::event::KeyEvent;

use usher_core::domain::UserType;
use usher_core::service::{InviteRequest, Status, UserDetail};
use usher_core::store::{Invitation, InvitationFilter, User};

/// Results carry the generation of the request that asked for them; the app drops any
/// that are older than its latest request, so a slow answer to an old search never
/// overwrites a newer one.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Resize,
    /// Time passes: spinner, "expires in", and a refresh every few ticks.
    Tick(usher_core::domain::Timestamp),
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
    Ask(crate::tabs::Ask),
    ImportPreview {
        generation: u64,
        result: Result<crate::tabs::import::Review, String>,
    },
    ImportHistory(Result<Vec<usher_core::store::Batch>, String>),
    /// The columns of a file whose columns were not recognised, for the mapping prompt.
    ImportColumns {
        generation: u64,
        headers: Vec<String>,
    },
    Roles {
        generation: u64,
        result: Result<Vec<usher_core::service::RoleView>, String>,
    },
    Role {
        generation: u64,
        result: Result<usher_core::service::RoleDetail, String>,
    },
    Domains(
        Result<
            (
                Vec<usher_core::service::DomainView>,
                Vec<usher_core::store::Mailbox>,
            ),
            String,
        >,
    ),
    /// What the operator may do, so the console can hide the rest.
    Operator(Result<usher_core::service::Operator, String>),
    /// How far a report has got: rows written, rows in all.
    ReportProgress {
        done: u64,
        total: u64,
    },
    /// The account's templates, for the editor to open on `name`.
    Templates {
        name: usher_core::mail::TemplateName,
        result: Result<Vec<usher_core::service::TemplateView>, String>,
    },
    /// A report finished (what to say) or failed.
    ReportDone(Result<String, String>),
    /// How far reading or applying an import has got.
    ImportProgress {
        stage: usher_core::import::Stage,
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
