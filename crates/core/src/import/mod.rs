//! Bulk import (docs/rules.md#import): read a user list from CSV or a spreadsheet,
//! recognise its columns, and validate every row, naming the row, column and reason of each
//! fault.
//!
//! Reading, column recognition and validation live here, with the template and the
//! plan (the preview of every change). Applying a plan, history and undo are use cases
//! in `service::import`.

mod account;
pub mod columns;
pub mod faulty;
pub mod ldif;
mod packed;
mod person;
pub mod plan;
pub mod progress;
mod repeats;
pub mod source;
pub mod template;
pub mod validate;
pub mod workbook;

pub use columns::{Columns, Field, parse_mapping};
pub use person::Person;
pub use progress::{Progress, Stage};
pub use source::{ReadOptions, Record, RecordSink, SourceInfo};
pub use validate::{ImportRow, Parsed, RowError, parse_file};

/// Why a file cannot be read at all. Faults in single rows are `RowError`s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: {reason}")]
    Corrupt { file: String, reason: String },
    #[error("{file}: {reason}")]
    TooLarge { file: String, reason: String },
    #[error("{file}: {reason}")]
    Encoding { file: String, reason: String },
    #[error("{file}, row {row}: {reason}")]
    Csv {
        file: String,
        row: u64,
        reason: String,
    },
    #[error("{file}: {reason}")]
    Sheet { file: String, reason: String },
    /// The columns could not be matched; `headers` are the file's, for a mapping.
    #[error("{file}: {reason}")]
    Mapping {
        file: String,
        reason: String,
        headers: Vec<String>,
    },
}
