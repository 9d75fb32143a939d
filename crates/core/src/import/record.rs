//! What every reader of a user list hands on (CSV, spreadsheet, LDIF): rows as records,
//! and what was read for the summary.

use super::error::ImportError;

/// One row that is not blank: its number as a spreadsheet or editor shows it, and its
/// cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub row: u64,
    pub cells: Vec<String>,
}

/// Receives every row that is not blank, in order. Which one is the header is the
/// sink's to decide: a file may open with a title block or PowerShell's `#TYPE` line.
pub trait RecordSink {
    fn record(&mut self, record: Record) -> Result<(), ImportError>;
}

/// What was read, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    pub format: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    /// Why the encoding was chosen, when it was not UTF-8 or named.
    pub note: Option<String>,
    /// The row that names the columns (1 unless a title block or `#TYPE` line comes
    /// first), and how many rows above it were left out.
    pub header_row: u64,
    pub above_header: u64,
}

/// A line longer than this is not a user record; refusing it bounds memory.
pub const MAX_LINE: usize = 1 << 20;
