//! A user as a bulk insert takes it: what both backends' bulk writers read.

use serde::Serialize;

use crate::domain::{UserStatus, UserType};

/// One user for a bulk insert.
#[derive(Debug, Clone, Serialize)]
pub struct BulkUser {
    pub email: String,
    pub email_display: String,
    pub first_name: String,
    pub last_name: String,
    pub unique_ref: Option<String>,
    pub user_type: UserType,
    pub status: UserStatus,
}
