//! The import template (seeds 000 and 003 offer one to download): usher's own column
//! names and an example row, as CSV or as a workbook whose second sheet explains every
//! column and the other names each one is recognised by.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use super::ImportError;
use super::columns::Field;

/// The columns of the template, with an example value and what each is for.
pub const COLUMNS: [(Field, &str, &str); 7] = [
    (
        Field::Email,
        "ann.lee@example.org",
        "required: the user's address",
    ),
    (Field::FirstName, "Ann", "first name"),
    (Field::LastName, "Lee", "last name"),
    (
        Field::UniqueRef,
        "EMP-0042",
        "optional, unique: an AD objectGUID or SID, an employee number; lets a renamed address be an update",
    ),
    (
        Field::UserType,
        "professional",
        "optional: professional (uses a licence) or guest",
    ),
    (
        Field::Password,
        "",
        "optional: creates the user active, without an invitation (stored only as an argon2id hash)",
    ),
    (
        Field::ForceChangePassword,
        "",
        "optional: TRUE or FALSE, with a password",
    ),
];

pub fn write_csv(path: &Path) -> Result<(), ImportError> {
    let fail = |e: String| ImportError::Io {
        file: path.display().to_string(),
        reason: e,
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(e.to_string()))?;
    w.write_record(COLUMNS.iter().map(|(f, _, _)| f.name()))
        .map_err(|e| fail(e.to_string()))?;
    w.write_record(COLUMNS.iter().map(|(_, example, _)| *example))
        .map_err(|e| fail(e.to_string()))?;
    w.flush().map_err(|e| fail(e.to_string()))
}

pub fn write_xlsx(path: &Path) -> Result<(), ImportError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ImportError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let users = wb.add_worksheet().set_name("Users").map_err(fail)?;
    for (c, (field, example, _)) in COLUMNS.iter().enumerate() {
        let c = c as u16;
        users
            .write_string_with_format(0, c, field.name(), &bold)
            .map_err(fail)?;
        users.write_string(1, c, *example).map_err(fail)?;
        users.set_column_width(c, 22).map_err(fail)?;
    }
    let help = wb.add_worksheet().set_name("Columns").map_err(fail)?;
    for (c, h) in ["column", "what it is", "also recognised as"]
        .iter()
        .enumerate()
    {
        help.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(fail)?;
    }
    let all = COLUMNS.iter().map(|(f, _, what)| (*f, *what)).chain([(
        Field::DisplayName,
        "optional: the full name, split into first and last when those are absent",
    )]);
    for (r, (field, what)) in all.enumerate() {
        let r = r as u32 + 1;
        help.write_string(r, 0, field.name()).map_err(fail)?;
        help.write_string(r, 1, what).map_err(fail)?;
        help.write_string(r, 2, field.aliases().join(", "))
            .map_err(fail)?;
    }
    help.set_column_width(0, 24).map_err(fail)?;
    help.set_column_width(1, 70).map_err(fail)?;
    help.set_column_width(2, 60).map_err(fail)?;
    wb.save(path).map_err(fail)
}
