//! Reports (docs/rules.md#reports): the users and the invitations of an account, as CSV or
//! XLSX, with every field, safe to open in a spreadsheet. The core fills a `Sink` page by
//! page; this module knows only files and cells.

pub mod cell;
pub mod write;

pub use cell::safe_cell;
pub use write::{Format, Sink, open};

/// The users report's columns.
pub const USER_COLUMNS: [&str; 16] = [
    "id",
    "email",
    "first_name",
    "last_name",
    "display_name",
    "user_type",
    "status",
    "unique_ref",
    "created_at",
    "updated_at",
    "account_roles",
    "account_permissions",
    "mailbox_grants",
    "invitation_status",
    "invited_at",
    "invitation_answered_at",
];

/// The invitations report's columns.
pub const INVITATION_COLUMNS: [&str; 18] = [
    "id",
    "email",
    "first_name",
    "last_name",
    "user_type",
    "status",
    "inviter",
    "created_at",
    "sent_at",
    "expires_at",
    "accepted_at",
    "declined_at",
    "revoked_at",
    "resend_count",
    "delivery",
    "last_error",
    "promised_roles",
    "promised_permissions",
];
