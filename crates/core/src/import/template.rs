//! The import template (as vendors offer one to download): usher's own column
//! names and an example row, as CSV or as a workbook whose second sheet explains every
//! column and the other names each one is recognised by.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use super::columns::Field;
use super::error::ImportError;

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

/// A role as the workbook lists it.
#[derive(Debug, Clone)]
pub struct RoleLine {
    pub name: String,
    pub scope: String,
    pub system: bool,
    pub description: String,
    pub permissions: Vec<String>,
}

/// Excel's sheet-name rules: at most 31 characters, none of `[]:*?/\`.
fn sheet_name_for(address: &str, n: usize) -> String {
    let bad = address.chars().any(|c| "[]:*?/\\".contains(c));
    if address.chars().count() <= 31 && !bad {
        address.to_owned()
    } else {
        format!("Mailbox {n}")
    }
}

/// The roles workbook (docs/rules.md#import): Roles and
/// Permissions from the live account for reference, then Users, Account, and one sheet
/// per mailbox, each with an example row on `domain`.
pub fn write_roles_xlsx(
    path: &Path,
    roles: &[RoleLine],
    mailboxes: &[String],
    domain: &str,
) -> Result<(), ImportError> {
    use super::workbook::{ACCOUNT, PERMISSIONS, ROLES, USERS};
    let fail = |e: rust_xlsxwriter::XlsxError| ImportError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let mut sheet = |name: &str, header: &[&str], rows: Vec<Vec<String>>| {
        reference_sheet(&mut wb, &bold, name, header, &rows).map_err(fail)
    };
    sheet(
        ROLES,
        &["Role", "Scope", "Kind", "Description", "Permissions"],
        role_rows(roles),
    )?;
    sheet(
        PERMISSIONS,
        &["Permission", "Scope", "Guests may hold", "Allows"],
        permission_rows(),
    )?;
    let example = format!("ann.lee@{domain}");
    sheet(
        USERS,
        &["First name", "Last name", "Email", "Personal mailbox (Y/N)"],
        vec![vec![
            "Ann".into(),
            "Lee".into(),
            example.clone(),
            "Y".into(),
        ]],
    )?;
    sheet(
        ACCOUNT,
        &["Email", "Roles", "Permissions"],
        vec![vec![example.clone(), "Professional".into(), String::new()]],
    )?;
    for (n, address) in mailboxes.iter().enumerate() {
        let name = sheet_name_for(address, n + 1);
        // The Mailbox column names the mailbox when the sheet's name cannot.
        let mailbox = if name == *address {
            String::new()
        } else {
            address.clone()
        };
        sheet(
            &name,
            &["Email", "Roles", "Permissions", "Mailbox"],
            vec![vec![
                example.clone(),
                "Reader".into(),
                String::new(),
                mailbox,
            ]],
        )?;
    }
    wb.save(path).map_err(fail)
}

/// A sheet with a bold header and rows of text.
fn reference_sheet(
    wb: &mut Workbook,
    bold: &Format,
    name: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let ws = wb.add_worksheet().set_name(name)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, bold)?;
        ws.set_column_width(c as u16, if c == 0 { 28 } else { 24 })?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    Ok(())
}

fn role_rows(roles: &[RoleLine]) -> Vec<Vec<String>> {
    roles
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.scope.clone(),
                if r.system { "system" } else { "custom" }.to_owned(),
                r.description.clone(),
                r.permissions.join(", "),
            ]
        })
        .collect()
}

fn permission_rows() -> Vec<Vec<String>> {
    crate::domain::Permission::ALL
        .iter()
        .map(|p| {
            vec![
                p.key().to_owned(),
                p.scope().to_string(),
                if p.guest_may_hold() { "yes" } else { "no" }.to_owned(),
                p.describe().to_owned(),
            ]
        })
        .collect()
}
