//! The rows an import left out for faults, written back as a CSV the operator can fix
//! and import again: the file's own header and cells for each faulty row, and a last
//! column that says what is wrong. The file is read a second time for them, so the
//! reading of a million good rows keeps no copy of their cells.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::source::{ReadOptions, Record, RecordSink, read};
use super::{ImportError, Parsed};

/// The column added to the file's own: what is wrong with the row.
pub const REASON_COLUMN: &str = "usher_error";

/// Where the faulty rows of `input` go when the operator does not say: beside it, as
/// `NAME.faulty.csv`.
pub fn default_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}.faulty.csv"))
}

/// Each faulty row's number and every fault of it, in one line.
pub fn reasons(parsed: &Parsed) -> BTreeMap<u64, String> {
    let mut out: BTreeMap<u64, String> = BTreeMap::new();
    for e in &parsed.errors {
        let reason = e.what();
        out.entry(e.row)
            .and_modify(|r| {
                r.push_str("; ");
                r.push_str(&reason);
            })
            .or_insert(reason);
    }
    out
}

struct Pick<'a> {
    header_row: u64,
    header: Option<Vec<String>>,
    wanted: &'a BTreeMap<u64, String>,
    rows: Vec<Record>,
}

impl RecordSink for Pick<'_> {
    fn record(&mut self, record: Record) -> Result<(), ImportError> {
        if self.header.is_none() && (self.header_row == 0 || record.row == self.header_row) {
            self.header = Some(record.cells);
        } else if self.wanted.contains_key(&record.row) {
            self.rows.push(record);
        }
        Ok(())
    }
}

/// Whether an apply with `skip_errors` left rows out that belong in a faulty-rows file
/// (a roles workbook leaves its faulty users out on its own, and names them).
pub fn left_out(parsed: &Parsed, skip_errors: bool) -> bool {
    skip_errors && !parsed.errors.is_empty() && parsed.workbook.is_none()
}

/// Writes the faulty rows of `parsed` (read from `input` with `opts`) to `out`, whole or
/// not at all (a `.partial` file renamed when done). Returns how many were written.
pub fn write(
    input: &Path,
    opts: &ReadOptions,
    parsed: &Parsed,
    out: &Path,
) -> Result<usize, ImportError> {
    let wanted = reasons(parsed);
    let mut pick = Pick {
        header_row: parsed.source.header_row,
        header: None,
        wanted: &wanted,
        rows: Vec::new(),
    };
    read(input, opts, &mut pick)?;
    let io = |e: std::io::Error| ImportError::Io {
        file: out.display().to_string(),
        reason: e.to_string(),
    };
    let partial = out.with_extension("csv.partial");
    let mut w = csv::Writer::from_path(&partial).map_err(|e| io(e.into()))?;
    let mut header = pick.header.unwrap_or_default();
    header.push(REASON_COLUMN.to_owned());
    w.write_record(&header).map_err(|e| io(e.into()))?;
    for r in &pick.rows {
        let mut cells = r.cells.clone();
        cells.resize(header.len() - 1, String::new());
        cells.push(format!(
            "row {}: {}",
            r.row,
            wanted.get(&r.row).map_or("", String::as_str)
        ));
        w.write_record(&cells).map_err(|e| io(e.into()))?;
    }
    w.flush().map_err(io)?;
    drop(w);
    std::fs::rename(&partial, out).map_err(io)?;
    Ok(pick.rows.len())
}
