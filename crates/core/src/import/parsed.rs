//! What reading a file gives: the valid rows, the faults by row, and for a roles workbook
//! the grants asked for each user.

use std::collections::BTreeMap;

use serde::Serialize;

use super::columns::Columns;
use super::person::Person;
use super::record::SourceInfo;
use crate::domain::sanitize::escape_for_display;
use crate::domain::{Email, Secret, UserType};

/// A valid row. The password, if any, is held as a secret: never printed or logged. Its
/// address, names and reference are read through `Person` (a million rows are held at
/// once, so they share one block).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub row: u64,
    pub(super) person: Person,
    pub user_type: Option<UserType>,
    // Boxed: rare, and 8 bytes a row instead of 24.
    pub password: Option<Box<Secret>>,
    pub force_change_password: bool,
    /// Create a personal mailbox the user owns (docs/rules.md#roles), for users created
    /// directly.
    pub personal_mailbox: bool,
    /// The account is disabled where the file comes from: not invited, left alone.
    pub disabled: bool,
}

impl ImportRow {
    /// A row with no type, password or mailbox, and a forced password change.
    pub fn new(
        row: u64,
        email: &Email,
        first_name: &str,
        last_name: &str,
        unique_ref: Option<&str>,
    ) -> Self {
        Self {
            row,
            person: Person::new(
                email.canonical(),
                email.display(),
                first_name,
                last_name,
                unique_ref,
            ),
            user_type: None,
            password: None,
            force_change_password: true,
            personal_mailbox: false,
            disabled: false,
        }
    }
}

impl std::ops::Deref for ImportRow {
    type Target = Person;

    fn deref(&self) -> &Person {
        &self.person
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    /// The fault without its row: "column 'Email': reason", for a line that names the
    /// row once and lists all its faults.
    pub fn what(&self) -> String {
        match &self.column {
            Some(c) => format!("column '{}': {}", escape_for_display(c), self.reason),
            None => self.reason.clone(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.column.is_some() { "," } else { ":" };
        write!(f, "row {}{sep} {}", self.row, self.what())
    }
}

#[derive(Debug)]
pub struct Parsed {
    pub source: SourceInfo,
    pub columns: Columns,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// What was read differently from the file's face, said in the preview: a vendor's
    /// column left unread, masked passwords left out.
    pub notes: Vec<String>,
    /// Set for a roles workbook: users are created directly, with these grants.
    pub workbook: Option<Box<Workbook>>,
}

/// A role or permission asked for one user, and where the workbook asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wanted {
    /// A role's name or a permission's key.
    pub what: String,
    /// None at account scope (the Account sheet).
    pub mailbox: Option<String>,
    pub sheet: String,
    pub row: u64,
    /// The column's header, for messages.
    pub column: String,
}

impl Wanted {
    /// As a grant is shown: "Editor on sales@acme.test".
    pub fn label(&self) -> String {
        match &self.mailbox {
            Some(m) => format!("{} on {m}", self.what),
            None => self.what.clone(),
        }
    }
}

/// What a roles workbook adds to its user rows.
#[derive(Debug, Clone, Default)]
pub struct Workbook {
    /// By the user's row on the Users sheet.
    pub grants: BTreeMap<u64, Vec<Wanted>>,
}

impl Workbook {
    pub fn of(&self, row: u64) -> &[Wanted] {
        self.grants.get(&row).map_or(&[], Vec::as_slice)
    }
}
