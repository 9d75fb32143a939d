//! Turns records into user rows, checking each one. Every fault names its row, column and
//! reason; a row with a fault is left out, and the rest are still checked, so one pass
//! lists everything to fix.

use std::path::Path;

use super::columns::{Columns, Field};
use super::error::ImportError;
use super::parsed::{ImportRow, Parsed, RowError};
use super::progress::{Progress, Stage};
use super::repeats::{self, Faulted};
use super::source::{ReadOptions, Record, RecordSink, SourceInfo, read};
use crate::config::Secret;
use crate::domain::sanitize::{escape_for_display, has_unsafe_chars};
use crate::domain::{Email, UserType};

pub const MAX_NAME: usize = 100;
pub const MAX_REF: usize = 256;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 1024;

/// Reads and checks a list of users (a CSV, LDIF, or one sheet of a spreadsheet).
pub fn parse_list(
    path: &Path,
    opts: &ReadOptions,
    mapping: &[(Field, String)],
) -> Result<Parsed, ImportError> {
    let mut v = Validator::new(path.display().to_string(), mapping.to_vec());
    v.progress = opts.progress.clone();
    v.header_row = opts.header_row;
    v.ignore = opts.ignore.clone();
    let source = read(path, opts, &mut v)?;
    v.finish(source)
}

/// Checks records read from somewhere other than a file (a directory): the first is
/// the header, `name` stands for the file in messages.
pub fn parse_records(
    name: &str,
    records: impl IntoIterator<Item = Record>,
    source: SourceInfo,
) -> Result<Parsed, ImportError> {
    let mut v = Validator::new(name.to_owned(), Vec::new());
    for r in records {
        v.record(r)?;
    }
    v.finish(source)
}

/// The header is looked for in this many rows at the top of a file (a title block, a
/// `#TYPE` line), unless the operator names its row.
const HEADER_SEARCH: u64 = 20;

struct Validator {
    file: String,
    mapping: Vec<(Field, String)>,
    /// The header's row, when the operator named it (`--header-row`).
    header_row: Option<u64>,
    /// Where the header was found, and how many rows above it were left out.
    found_at: u64,
    above: u64,
    /// Why the first row tried as the header was not one, said if none is.
    first_refusal: Option<ImportError>,
    ignore: Vec<String>,
    lenient: Lenient,
    columns: Option<Columns>,
    rows: Vec<ImportRow>,
    errors: Vec<RowError>,
    faulted: Vec<Faulted>,
    progress: Progress,
    records: u64,
}

impl Validator {
    fn new(file: String, mapping: Vec<(Field, String)>) -> Self {
        Self {
            file,
            mapping,
            header_row: None,
            found_at: 0,
            above: 0,
            first_refusal: None,
            ignore: Vec::new(),
            lenient: Lenient::default(),
            columns: None,
            rows: Vec::new(),
            errors: Vec::new(),
            faulted: Vec::new(),
            progress: Progress::default(),
            records: 0,
        }
    }
}

impl Validator {
    /// The file once every record is in: repeated keys are refused now, as they can only
    /// be told once all rows are seen.
    fn finish(mut self, mut source: SourceInfo) -> Result<Parsed, ImportError> {
        let read_rows = (self.rows.len() + self.errors.len()) as u64;
        self.progress
            .report(Stage::Reading, read_rows, Some(read_rows));
        let Some(columns) = self.columns else {
            return Err(match (self.first_refusal, self.header_row) {
                (Some(e), _) => e,
                (None, Some(n)) => ImportError::Mapping {
                    file: self.file,
                    reason: format!("--header-row {n}: the file has no row {n} with text"),
                    headers: Vec::new(),
                },
                (None, None) => ImportError::Empty { file: self.file },
            });
        };
        source.header_row = self.found_at;
        source.above_header = self.above;
        repeats::refuse(&columns, &mut self.rows, &mut self.errors, &self.faulted);
        let notes = self
            .lenient
            .settle(&columns, &mut self.rows, &mut self.errors);
        Ok(Parsed {
            source,
            columns,
            rows: self.rows,
            errors: self.errors,
            notes,
            workbook: None,
        })
    }
}

impl Validator {
    /// Takes `record` as the header if it is one: the row the operator named, else the
    /// first of the top rows whose cells name the columns (with an address column).
    /// Rows above it (a title, PowerShell's `#TYPE` line) are left out and counted.
    fn header(&mut self, record: &Record) -> Result<(), ImportError> {
        let named = self.header_row;
        if named.is_some_and(|n| record.row < n) {
            self.above += 1;
            return Ok(());
        }
        if let Some(n) = named.filter(|n| record.row > *n) {
            return Err(ImportError::Mapping {
                file: self.file.clone(),
                reason: format!("--header-row {n}: row {n} is blank"),
                headers: Vec::new(),
            });
        }
        let headers: Vec<String> = record.cells.iter().map(|h| h.trim().to_owned()).collect();
        match Columns::resolve(&self.file, &headers, &self.mapping, &self.ignore) {
            Ok(c) => {
                self.columns = Some(c);
                self.found_at = record.row;
                Ok(())
            }
            Err(e) if named.is_none() && record.row < HEADER_SEARCH => {
                self.first_refusal.get_or_insert(e);
                self.above += 1;
                Ok(())
            }
            Err(e) => Err(self.first_refusal.take().unwrap_or(e)),
        }
    }
}

impl RecordSink for Validator {
    fn record(&mut self, mut record: Record) -> Result<(), ImportError> {
        let Some(columns) = &self.columns else {
            return self.header(&record);
        };
        compose(&mut record.cells);
        self.records += 1;
        self.progress.tick(Stage::Reading, self.records, None);
        match check_row(columns, &record, &mut self.lenient) {
            Ok(row) => self.rows.push(row),
            Err((mut errs, keys)) => {
                self.errors.append(&mut errs);
                if keys.email.is_some() || keys.unique_ref.is_some() {
                    self.faulted.push(keys);
                }
            }
        }
        Ok(())
    }
}

/// Cells in one Unicode form (NFC), so that a name or address exported decomposed
/// compares equal to the same text typed composed. ASCII, nearly every cell, is left as
/// it is without a look.
pub(super) fn compose(cells: &mut [String]) {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    for cell in cells.iter_mut().filter(|c| !c.is_ascii()) {
        if is_nfc_quick(cell.chars()) != IsNormalized::Yes {
            *cell = cell.nfc().collect();
        }
    }
}

/// What a vendor's columns held that usher reads leniently, for the notes.
#[derive(Debug, Default)]
pub(super) struct Lenient {
    /// Values of a guessed type column that are not usher's types (Okta's Employee),
    /// each once (the first thousand), and the rows that hold one with its value's place.
    unknown_types: Vec<String>,
    unknown_type_at: std::collections::HashMap<String, u16>,
    unknown_type_rows: Vec<(u64, u16)>,
    /// Rows whose type is one of usher's own words (professional, guest, ...).
    usher_types: u64,
    /// Rows whose password cell was a mask (Google's `****`).
    masked_passwords: u64,
    /// Rows whose address came from the second address column (Entra's UPN).
    fallback_addresses: u64,
    /// Values of the enabled column that say neither (the first few), and how many rows.
    unknown_states: Vec<String>,
    unknown_state_rows: u64,
}

impl Lenient {
    fn unknown_state(&mut self, value: &str) {
        self.unknown_state_rows += 1;
        if self.unknown_states.len() < 5 && !self.unknown_states.iter().any(|v| v == value) {
            self.unknown_states.push(value.to_owned());
        }
    }

    /// A value of the guessed type column that is not one of usher's words.
    fn unknown_type(&mut self, row: u64, value: &str) {
        let at = match self.unknown_type_at.get(value) {
            Some(&i) => i,
            None if self.unknown_types.len() < 1000 => {
                let i = u16::try_from(self.unknown_types.len()).unwrap_or(u16::MAX);
                self.unknown_types.push(value.to_owned());
                self.unknown_type_at.insert(value.to_owned(), i);
                i
            }
            None => u16::MAX,
        };
        self.unknown_type_rows.push((row, at));
    }

    /// The notes, once every row is in. A guessed type column that holds none of
    /// usher's words (Okta's Employee and Contractor) means something else: it is left
    /// unread, with a note. One that holds usher's words is usher's: a value it does not
    /// know there is a fault of its row, as in a column named by `--map`.
    fn settle(
        self,
        columns: &Columns,
        rows: &mut Vec<ImportRow>,
        errors: &mut Vec<RowError>,
    ) -> Vec<String> {
        let mut notes = Vec::new();
        let header = |f: Field| escape_for_display(columns.header(f).unwrap_or_default());
        if self.usher_types > 0 && !self.unknown_type_rows.is_empty() {
            let bad: std::collections::BTreeMap<u64, u16> =
                self.unknown_type_rows.iter().copied().collect();
            for r in rows.iter() {
                let Some(&at) = bad.get(&r.row) else { continue };
                let value = self
                    .unknown_types
                    .get(usize::from(at))
                    .map_or("", String::as_str);
                errors.push(RowError {
                    row: r.row,
                    column: columns.header(Field::UserType).map(str::to_owned),
                    reason: format!(
                        "'{}' is not professional or guest",
                        escape_for_display(value)
                    ),
                });
            }
            rows.retain(|r| !bad.contains_key(&r.row));
            // Faults stay in row order, those of a row in the order they were found.
            errors.sort_by_key(|e| e.row);
        } else if !self.unknown_types.is_empty() {
            for r in rows.iter_mut() {
                r.user_type = None;
            }
            let mut seen: Vec<String> = self
                .unknown_types
                .iter()
                .map(|v| escape_for_display(v))
                .collect();
            seen.sort();
            seen.truncate(5);
            notes.push(format!(
                "the column '{}' was not read as the user type: it holds {} (usher's types \
                 are professional and guest); --map user_type=COLUMN reads it, --ignore \
                 leaves it out quietly",
                header(Field::UserType),
                seen.join(", ")
            ));
        }
        if self.masked_passwords > 0 {
            notes.push(format!(
                "the column '{}' holds masked passwords (****) in {} row(s): they are left \
                 out, and those users set their own",
                header(Field::Password),
                self.masked_passwords
            ));
        }
        if self.unknown_state_rows > 0 {
            let seen: Vec<String> = self
                .unknown_states
                .iter()
                .map(|v| escape_for_display(v))
                .collect();
            notes.push(format!(
                "{} row(s) have a '{}' that says neither enabled nor disabled ({}): taken as \
                 enabled",
                self.unknown_state_rows,
                header(Field::Enabled),
                seen.join(", ")
            ));
        }
        if let (n @ 1.., Some(i)) = (self.fallback_addresses, columns.email_fallback) {
            notes.push(format!(
                "{n} row(s) with an empty '{}' took their address from '{}'",
                header(Field::Email),
                escape_for_display(columns.headers.get(i).map_or("", String::as_str))
            ));
        }
        notes
    }
}

/// The row, or its faults with the keys that later rows must not repeat.
fn check_row(
    columns: &Columns,
    record: &Record,
    lenient: &mut Lenient,
) -> Result<ImportRow, (Vec<RowError>, Faulted)> {
    let mut c = RowCheck {
        columns,
        record,
        errors: Vec::new(),
    };
    c.readable();
    let email = c.address(lenient);
    let (first, last) = c.names();
    let unique_ref = c.unique_ref();
    let user_type = user_type_of(columns, record.row, c.get(Field::UserType), lenient);
    let user_type = c.or_fault(Field::UserType, user_type);
    let password = password_of(c.get(Field::Password), lenient);
    let password = c.or_fault(Field::Password, password);
    let (force_change_password, personal_mailbox) = c.flags();
    let disabled = disabled_at_source(columns, c.get(Field::Enabled), lenient);
    let row = record.row;
    match email {
        Some(email) if c.errors.is_empty() => Ok(ImportRow {
            user_type,
            password: password.map(|p| Box::new(Secret::new(p))),
            force_change_password,
            personal_mailbox,
            disabled,
            ..ImportRow::new(row, &email, &first, &last, unique_ref.as_deref())
        }),
        _ => Err((
            c.errors,
            Faulted {
                row,
                email: email.map(|e| e.canonical().into()),
                unique_ref: unique_ref.map(String::into_boxed_str),
            },
        )),
    }
}

/// One record being checked: each fault is noted with its column, and the rest of the
/// row is still read, so that one pass names everything to fix.
struct RowCheck<'a> {
    columns: &'a Columns,
    record: &'a Record,
    errors: Vec<RowError>,
}

impl<'a> RowCheck<'a> {
    fn fault(&mut self, field: Field, reason: String) {
        self.errors.push(RowError {
            row: self.record.row,
            column: self.columns.header(field).map(str::to_owned),
            reason,
        });
    }

    fn get(&self, field: Field) -> &'a str {
        self.columns
            .index(field)
            .and_then(|i| self.record.cells.get(i))
            .map_or("", |s| s.trim())
    }

    /// The value, or None with the reason noted as the field's fault.
    fn or_fault<T>(&mut self, field: Field, value: Result<Option<T>, String>) -> Option<T> {
        value.unwrap_or_else(|why| {
            self.fault(field, why);
            None
        })
    }

    /// Every present field: decodable, no control characters, not absurdly long. The
    /// address's own parse says the same of it, once.
    fn readable(&mut self) {
        for (field, _, _) in &self.columns.found {
            let v = self.get(*field);
            if v.contains('\u{FFFD}') {
                self.fault(*field, "holds characters that could not be decoded; check the file's encoding (--encoding)".into());
            } else if !matches!(field, Field::Password | Field::Email) && has_unsafe_chars(v) {
                self.fault(
                    *field,
                    format!(
                        "'{}' contains control or invisible characters",
                        escape_for_display(v)
                    ),
                );
            }
        }
    }

    /// The row's address, or the known alias's (Entra's UPN) when it is empty.
    fn address(&mut self, lenient: &mut Lenient) -> Option<Email> {
        let mut address = self.get(Field::Email);
        if let (true, Some(i)) = (address.is_empty(), self.columns.email_fallback) {
            address = self.record.cells.get(i).map_or("", |s| s.trim());
            lenient.fallback_addresses += u64::from(!address.is_empty());
        }
        match Email::parse(address) {
            Ok(e) => Some(e),
            Err(crate::domain::EmailError::Empty) => {
                self.fault(Field::Email, "empty: every row needs an address".into());
                None
            }
            Err(e) => {
                self.fault(Field::Email, e.to_string());
                None
            }
        }
    }

    fn name(&mut self, field: Field) -> String {
        let v = self.get(field);
        if v.chars().count() > MAX_NAME {
            self.fault(field, format!("longer than {MAX_NAME} characters"));
        }
        v.to_owned()
    }

    /// First and last name; from one "Name" column (as some vendors' templates have),
    /// the last word is the last name.
    fn names(&mut self) -> (String, String) {
        let (mut first, mut last, display) = (
            self.name(Field::FirstName),
            self.name(Field::LastName),
            self.name(Field::DisplayName),
        );
        if first.is_empty() && last.is_empty() && !display.is_empty() {
            match display.rsplit_once(' ') {
                Some((f, l)) => {
                    first = f.trim().to_owned();
                    last = l.to_owned();
                }
                None => first = display.clone(),
            }
        }
        (first, last)
    }

    fn unique_ref(&mut self) -> Option<String> {
        let unique_ref = Some(self.get(Field::UniqueRef).to_owned()).filter(|r| !r.is_empty());
        if let Some(r) = &unique_ref
            && r.chars().count() > MAX_REF
        {
            self.fault(
                Field::UniqueRef,
                format!("longer than {MAX_REF} characters"),
            );
        }
        unique_ref
    }

    /// Whether the password must be changed at first login (default yes) and whether a
    /// personal mailbox is made (default no).
    fn flags(&mut self) -> (bool, bool) {
        let force = match yes_no(self.get(Field::ForceChangePassword)) {
            Ok(v) => v.unwrap_or(true),
            Err(other) => {
                let why = format!("'{}' is not TRUE or FALSE", escape_for_display(&other));
                self.fault(Field::ForceChangePassword, why);
                true
            }
        };
        let mailbox = match yes_no(self.get(Field::PersonalMailbox)) {
            Ok(v) => v.unwrap_or(false),
            Err(other) => {
                let why = format!("'{}' is not Y or N", escape_for_display(&other));
                self.fault(Field::PersonalMailbox, why);
                false
            }
        };
        (force, mailbox)
    }
}

/// A row's type from usher's words (professional, guest and their synonyms). In a
/// column found by its name alone, other words are noted rather than refused: `settle`
/// decides once every row is in whether the column is usher's at all.
fn user_type_of(
    columns: &Columns,
    row: u64,
    value: &str,
    lenient: &mut Lenient,
) -> Result<Option<UserType>, String> {
    Ok(match value.to_ascii_lowercase().as_str() {
        // Entra's Member is a user of the organisation: the default type, not a choice.
        "" | "member" => None,
        "professional" | "pro" | "licensed" | "paid" | "staff" => {
            lenient.usher_types += 1;
            Some(UserType::Professional)
        }
        "guest" | "free" | "external" => {
            lenient.usher_types += 1;
            Some(UserType::Guest)
        }
        _ if columns.is_guessed(Field::UserType) => {
            lenient.unknown_type(row, value);
            None
        }
        other => {
            return Err(format!(
                "'{}' is not professional or guest",
                escape_for_display(other)
            ));
        }
    })
}

/// A row's password, if it has one. Google's "Download users" shows every password as
/// asterisks: a mask, not a password, left out and counted for the notes. The password
/// itself is never repeated in a message.
fn password_of(value: &str, lenient: &mut Lenient) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().all(|c| c == '*') {
        lenient.masked_passwords += 1;
        return Ok(None);
    }
    let n = value.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(format!(
            "must be {MIN_PASSWORD} to {MAX_PASSWORD} characters (this one has {n})"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(Some(value.to_owned()))
}

/// Whether a row's account is disabled at the source, by the vendors' words: true/false
/// (Entra's accountEnabled, PowerShell's Enabled, mailcow's active 1/0), Active or
/// Suspended (Google, usher's own report, Okta's states), or AD's userAccountControl,
/// whose bit 2 is ACCOUNTDISABLE. A value none of these is taken as enabled, and noted.
fn disabled_at_source(columns: &Columns, value: &str, lenient: &mut Lenient) -> bool {
    let v = value.trim().to_ascii_lowercase();
    let uac = columns.header(Field::Enabled).is_some_and(|h| {
        h.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .eq("useraccountcontrol".chars())
    });
    if uac {
        return match v.parse::<u32>() {
            Ok(flags) => flags & 2 != 0,
            Err(_) => {
                lenient.unknown_state(value);
                false
            }
        };
    }
    match v.as_str() {
        "" | "true" | "yes" | "y" | "1" | "active" | "enabled" | "staged" | "provisioned"
        | "locked_out" | "password_expired" | "recovery" => false,
        "false" | "no" | "n" | "0" | "inactive" | "disabled" | "suspended" | "deprovisioned"
        | "blocked" => true,
        _ => {
            lenient.unknown_state(value);
            false
        }
    }
}

/// Y/N, yes/no, true/false, 1/0 in any case; None when empty; the text when neither.
pub fn yes_no(v: &str) -> Result<Option<bool>, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "y" | "1" => Ok(Some(true)),
        "false" | "no" | "n" | "0" => Ok(Some(false)),
        other => Err(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_back_what_it_was_made_of() -> Result<(), crate::domain::EmailError> {
        let typed = ImportRow::new(7, &Email::parse("Zoë@Bücher.Example")?, "Zoë", "", None);
        assert_eq!(typed.email(), "zoë@xn--bcher-kva.example");
        assert_eq!(typed.email_display(), "Zoë@Bücher.Example");
        assert_eq!(typed.domain(), "xn--bcher-kva.example");
        assert_eq!((typed.first_name(), typed.last_name()), ("Zoë", ""));
        assert_eq!(typed.unique_ref(), None);
        let plain = ImportRow::new(8, &Email::parse("ann@x.org")?, "Ann", "Lee", Some("E-1"));
        assert_eq!(plain.email_display(), "ann@x.org");
        assert_eq!(plain.unique_ref(), Some("E-1"));
        assert!(plain.force_change_password && plain.password.is_none());
        Ok(())
    }

    /// Reads `lines` (the header first) as a file would be.
    fn parsed(lines: &[&str]) -> Result<Parsed, ImportError> {
        let mut v = Validator::new("t.csv".into(), Vec::new());
        let cells = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
        for (i, l) in lines.iter().enumerate() {
            v.record(Record {
                row: i as u64 + 1,
                cells: cells(l),
            })?;
        }
        v.finish(SourceInfo::default())
    }

    #[test]
    fn a_repeated_address_or_reference_is_refused_after_its_first_row() -> Result<(), ImportError> {
        let p = parsed(&[
            "Email,First Name,Unique Reference",
            "Ann@acme.test,Ann,R1",     // row 2: first of both
            "bob@acme.test,Bo\u{7},R2", // row 3: a fault of its own
            "ann@acme.test,Ann,R3",     // row 4: Ann's address again
            "cy@acme.test,Cy,R1",       // row 5: Ann's reference again
            "bob@acme.test,Bob,R2",     // row 6: both of faulty row 3 again
            "ANN@acme.test,Ann,R1",     // row 7: both of row 2, third time
            "dee@acme.test,Dee,R4",     // row 8: fine
        ])?;
        let rows: Vec<u64> = p.rows.iter().map(|r| r.row).collect();
        assert_eq!(rows, [2, 8]);
        let got: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
        let expect = [
            "row 3, column 'First Name': 'Bo\\u{7}' contains control",
            "row 4, column 'Email': ann@acme.test appears again (first at row 2)",
            "row 5, column 'Unique Reference': 'R1' appears again (first at row 2)",
            "row 6, column 'Email': bob@acme.test appears again (first at row 3)",
            "row 6, column 'Unique Reference': 'R2' appears again (first at row 3)",
            "row 7, column 'Email': ann@acme.test appears again (first at row 2)",
            "row 7, column 'Unique Reference': 'R1' appears again (first at row 2)",
        ];
        assert_eq!(got.len(), expect.len(), "{got:#?}");
        for (g, e) in got.iter().zip(expect) {
            assert!(g.starts_with(e), "{g} should start with {e}");
        }
        Ok(())
    }
}
