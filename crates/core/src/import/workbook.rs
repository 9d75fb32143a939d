//! The roles workbook (the mass creation of corporate users: docs/rules.md#import): sheets
//! Roles and Permissions (reference lists, not read back), Users (names, address, personal
//! mailbox Y/N), Account (each user's account roles and permissions) and one sheet per
//! mailbox (its roles and permissions per user). Users are read by the ordinary validator;
//! the grants are attached to them here by address.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::columns::{Field, normalise};
use super::error::ImportError;
use super::parsed::{Parsed, RowError, Wanted, Workbook};
use super::source::{ReadOptions, Record, RecordSink, read};
use super::validate::{compose, parse_list};
use crate::domain::Email;
use crate::domain::sanitize::{escape_for_display, has_unsafe_chars};

pub const USERS: &str = "Users";
pub const ACCOUNT: &str = "Account";
pub const ROLES: &str = "Roles";
pub const PERMISSIONS: &str = "Permissions";
/// Sheets that are read for reference only, never as a mailbox.
const REFERENCE: [&str; 3] = [ROLES, PERMISSIONS, "Columns"];

/// The sheet names of a spreadsheet; empty for anything else.
fn sheet_names(path: &Path) -> Vec<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        return Vec::new();
    }
    use calamine::Reader;
    calamine::open_workbook_auto(path)
        .map(|b| b.sheet_names())
        .unwrap_or_default()
}

fn has(sheets: &[String], name: &str) -> bool {
    sheets.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// A workbook with a Users and an Account sheet.
pub fn is_roles_workbook(path: &Path) -> bool {
    let sheets = sheet_names(path);
    has(&sheets, USERS) && has(&sheets, ACCOUNT)
}

/// One sheet's header and records, as read.
#[derive(Default)]
struct Collect {
    header: Vec<String>,
    records: Vec<Record>,
}

impl RecordSink for Collect {
    /// A workbook's sheets are usher's own: the first row names the columns.
    fn record(&mut self, mut record: Record) -> Result<(), ImportError> {
        if self.header.is_empty() && self.records.is_empty() {
            self.header = record.cells;
            return Ok(());
        }
        compose(&mut record.cells);
        self.records.push(record);
        Ok(())
    }
}

/// The mailbox a sheet is named after: its address, as in "sales@acme.test", or
/// "Mailbox sales@acme.test" (the template's own wording; a sheet name cannot hold ':').
fn mailbox_of_sheet(sheet: &str) -> &str {
    let s = sheet.trim();
    match s.get(..7) {
        Some(head) if head.eq_ignore_ascii_case("mailbox") && s.contains('@') => {
            s[7..].trim_start_matches([' ', '-', '_']).trim()
        }
        _ => s,
    }
}

/// "Editor; Reader, users.invite" -> its names, in order, without blanks.
fn names(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads a roles workbook: the Users sheet as any import, then the grants. A fault in a
/// grant sheet leaves out the user it concerns ("such users will not be
/// created"), and says so with its sheet, row and column.
pub fn parse(
    path: &Path,
    opts: &ReadOptions,
    mapping: &[(Field, String)],
) -> Result<Parsed, ImportError> {
    let sheets = sheet_names(path);
    let users_sheet = sheets
        .iter()
        .find(|s| s.eq_ignore_ascii_case(USERS))
        .cloned()
        .unwrap_or_else(|| USERS.to_owned());
    let parsed = parse_list(
        path,
        &ReadOptions {
            sheet: Some(users_sheet),
            ..opts.clone()
        },
        mapping,
    )?;
    let mut grants = Grants {
        by_email: parsed
            .rows
            .iter()
            .map(|r| (r.email().to_owned(), r.row))
            .collect(),
        ..Grants::default()
    };
    for sheet in &sheets {
        if sheet.eq_ignore_ascii_case(USERS)
            || REFERENCE.iter().any(|r| sheet.eq_ignore_ascii_case(r))
        {
            continue;
        }
        if let Some(s) = GrantSheet::read(path, sheet)? {
            for r in &s.records {
                grants.add(&s, r);
            }
        }
    }
    Ok(grants.finish(parsed))
}

/// A sheet of grants (Account, or one mailbox's): its columns found by name.
struct GrantSheet {
    name: String,
    account: bool,
    header: Vec<String>,
    records: Vec<Record>,
    email_col: usize,
    grant_cols: Vec<usize>,
    mailbox_col: Option<usize>,
}

impl GrantSheet {
    /// The sheet, or None when it is empty; an error when it has no Email column.
    fn read(path: &Path, sheet: &str) -> Result<Option<Self>, ImportError> {
        let mut c = Collect::default();
        read(
            path,
            &ReadOptions {
                sheet: Some(sheet.to_owned()),
                ..ReadOptions::default()
            },
            &mut c,
        )
        .or_else(|e| match e {
            // An empty mailbox sheet grants nothing.
            ImportError::Empty { .. } => Ok(Default::default()),
            e => Err(e),
        })?;
        if c.header.is_empty() {
            return Ok(None);
        }
        let norm: Vec<String> = c.header.iter().map(|h| normalise(h)).collect();
        let col = |names: &[&str]| norm.iter().position(|h| names.contains(&h.as_str()));
        let Some(email_col) = col(Field::Email.aliases()) else {
            return Err(ImportError::Sheet {
                file: path.display().to_string(),
                reason: format!(
                    "sheet '{}' has no Email column (its columns: {})",
                    escape_for_display(sheet),
                    escape_for_display(&c.header.join(", "))
                ),
            });
        };
        let grant_cols: Vec<usize> = norm
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h.as_str(), "roles" | "role" | "permissions" | "permission"))
            .map(|(i, _)| i)
            .collect();
        Ok(Some(Self {
            name: sheet.to_owned(),
            account: sheet.eq_ignore_ascii_case(ACCOUNT),
            mailbox_col: col(&["mailbox", "mailboxaddress"]),
            header: c.header,
            records: c.records,
            email_col,
            grant_cols,
        }))
    }

    fn column(&self, i: usize) -> &str {
        self.header.get(i).map_or("", |h| h.trim())
    }

    /// A fault at a cell of this sheet, named "Sheet!Column".
    fn here(&self, row: u64, i: usize, reason: String) -> RowError {
        RowError {
            row,
            column: Some(format!("{}!{}", self.name, self.column(i))),
            reason,
        }
    }

    /// The mailbox a row grants on: None on the Account sheet; else its Mailbox column,
    /// or the sheet's own name.
    fn mailbox(&self, r: &Record) -> Option<String> {
        if self.account {
            return None;
        }
        let named = self
            .mailbox_col
            .map(|i| cell(r, i))
            .filter(|m| !m.is_empty());
        Some(named.unwrap_or(mailbox_of_sheet(&self.name)).to_owned())
    }
}

fn cell(r: &Record, i: usize) -> &str {
    r.cells.get(i).map_or("", |s| s.trim())
}

/// The grants read so far, by the Users row they are for, with the faults found.
#[derive(Default)]
struct Grants {
    by_email: HashMap<String, u64>,
    book: Workbook,
    errors: Vec<RowError>,
    /// Users rows to leave out, with why.
    leave_out: BTreeMap<u64, RowError>,
}

impl Grants {
    fn add(&mut self, s: &GrantSheet, r: &Record) {
        let email = match Email::parse(cell(r, s.email_col)) {
            Ok(e) => e,
            Err(e) => {
                let why = format!("{e}; this row grants nothing, and no user is created from it");
                self.errors.push(s.here(r.row, s.email_col, why));
                return;
            }
        };
        let Some(&user_row) = self.by_email.get(email.canonical()) else {
            let why = format!(
                "{} is not a valid user on the Users sheet; this row grants nothing",
                email.display()
            );
            self.errors.push(s.here(r.row, s.email_col, why));
            return;
        };
        let mailbox = s.mailbox(r);
        for &i in &s.grant_cols {
            for what in names(cell(r, i)) {
                if has_unsafe_chars(what) || mailbox.as_deref().is_some_and(has_unsafe_chars) {
                    self.leave_out.entry(user_row).or_insert_with(|| {
                        s.here(
                            r.row,
                            i,
                            format!(
                                "'{}' contains control or invisible characters; {} is left out",
                                escape_for_display(what),
                                email.display()
                            ),
                        )
                    });
                    continue;
                }
                self.book.grants.entry(user_row).or_default().push(Wanted {
                    what: what.to_owned(),
                    mailbox: mailbox.clone(),
                    sheet: s.name.clone(),
                    row: r.row,
                    column: s.column(i).to_owned(),
                });
            }
        }
    }

    /// The Users rows with their grants, less the users left out.
    fn finish(mut self, mut parsed: Parsed) -> Parsed {
        // The same grant asked twice (on two sheets, say) is one grant.
        for list in self.book.grants.values_mut() {
            let mut seen = BTreeSet::new();
            list.retain(|w| seen.insert(w.label().to_lowercase()));
        }
        parsed.errors.append(&mut self.errors);
        if !self.leave_out.is_empty() {
            parsed.rows.retain(|r| !self.leave_out.contains_key(&r.row));
            for row in self.leave_out.keys() {
                self.book.grants.remove(row);
            }
            parsed.errors.extend(self.leave_out.into_values());
        }
        parsed.workbook = Some(Box::new(self.book));
        parsed
    }
}

/// Users whose grants the database refuses (an unknown role, a missing mailbox, a
/// permission a guest may not hold) are left out, each with the reason: `faults` maps a
/// Users row to the sheet, row and column at fault.
pub fn leave_out(parsed: &Parsed, faults: BTreeMap<u64, RowError>) -> Parsed {
    let mut rows = parsed.rows.clone();
    rows.retain(|r| !faults.contains_key(&r.row));
    let mut errors = parsed.errors.clone();
    errors.extend(faults.into_values());
    Parsed {
        source: parsed.source.clone(),
        columns: parsed.columns.clone(),
        rows,
        errors,
        notes: parsed.notes.clone(),
        workbook: parsed.workbook.clone(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_mailbox_sheet_may_say_mailbox() {
        use super::mailbox_of_sheet as m;
        assert_eq!(m("Mailbox sales@acme.test"), "sales@acme.test");
        assert_eq!(m("mailbox - sales@acme.test"), "sales@acme.test");
        assert_eq!(m("sales@acme.test"), "sales@acme.test");
        assert_eq!(m("Mailboxes"), "Mailboxes", "no address: the name as it is");
    }
}
