//! Spreadsheets shaped as sysadmins' files are, for the import tests.

use std::path::Path;

/// A spreadsheet report with a title and a date above the column names (on row 4), and
/// two people.
pub fn title_block_xlsx(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Acme staff list").unwrap();
    sheet.write_string(1, 0, "Exported 2026-11-30").unwrap();
    for (c, h) in ["First name", "Last name", "E-mail"].iter().enumerate() {
        sheet.write_string(3, c as u16, *h).unwrap();
    }
    for (r, person) in [
        ["Ann", "Lee", "ann@acme.test"],
        ["Bob", "Ng", "bob@acme.test"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in person.iter().enumerate() {
            sheet.write_string(4 + r as u32, c as u16, *v).unwrap();
        }
    }
    book.save(path).unwrap();
}
