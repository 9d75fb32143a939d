//! What flows into the app (keys, results) and what it asks the worker to do.

use crossterm::event::KeyEvent;

use crate::failure::Failure;
use usher_core::service::{Status, UserDetail};
use usher_core::store::{Invitation, User};

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
    Status(Result<Status, Failure>),
    /// A request failed because the database went away (sent beside its own result).
    ConnectionLost(String),
    Invitations {
        generation: u64,
        result: Result<Vec<Invitation>, Failure>,
    },
    Users {
        generation: u64,
        page: UserPage,
        result: Result<Vec<User>, Failure>,
    },
    UserDetail {
        generation: u64,
        result: Result<UserDetail, Failure>,
    },
    /// The outcome of a change, for the status line; a success reloads the views.
    Done(Result<String, Failure>),
    /// A question to put to the operator, once what it names has been read.
    Ask(crate::effect::Ask),
    ImportPreview {
        generation: u64,
        result: Result<crate::effect::Review, Failure>,
    },
    ImportHistory(Result<Vec<usher_core::store::Batch>, Failure>),
    /// The columns of a file whose columns were not recognised, for the mapping prompt.
    ImportColumns {
        generation: u64,
        headers: Vec<String>,
    },
    Roles {
        generation: u64,
        result: Result<Vec<usher_core::service::RoleView>, Failure>,
    },
    Role {
        generation: u64,
        result: Result<usher_core::service::RoleDetail, Failure>,
    },
    Domains(
        Result<
            (
                Vec<usher_core::service::DomainView>,
                Vec<usher_core::store::Mailbox>,
            ),
            Failure,
        >,
    ),
    Sync(Result<Vec<usher_core::service::SourceStatus>, Failure>),
    SyncPreviewed(Result<Box<usher_core::service::SyncReport>, Failure>),
    /// What the operator may do, so the console can hide the rest.
    Operator(Result<usher_core::service::Operator, Failure>),
    /// How far a report has got: rows written, rows in all.
    ReportProgress {
        done: u64,
        total: u64,
    },
    /// The account's templates, for the editor to open on `name`.
    Templates {
        name: usher_core::mail::TemplateName,
        result: Result<Vec<usher_core::service::TemplateView>, Failure>,
    },
    /// A report finished (what to say) or failed.
    ReportDone(Result<String, Failure>),
    /// How far reading or applying an import has got.
    ImportProgress {
        stage: usher_core::import::Stage,
        done: u64,
        total: Option<u64>,
    },
}

pub use super::effect::{Effect, UserPage};
