//! Bulk import (docs/rules.md#import): read a user list from CSV or a spreadsheet,
//! recognise its columns, and validate every row, naming the row, column and reason of each
//! fault.
//!
//! Reading, column recognition and validation live here, with the template and the
//! plan (the preview of every change). Applying a plan, history and undo are use cases
//! in `service::import`.

mod account;
mod bucket;
mod changes;
pub mod columns;
mod error;
pub mod faulty;
pub mod ldif;
mod outcome;
mod packed;
mod parsed;
mod person;
pub mod plan;
pub mod progress;
mod record;
mod repeats;
mod row_view;
pub mod source;
pub mod template;
pub mod validate;
pub mod workbook;

pub use columns::{Columns, Field, parse_mapping};
pub use error::ImportError;
pub use parsed::{ImportRow, Parsed, RowError, Wanted, Workbook};
pub use person::Person;
pub use progress::{Progress, Stage};
pub use record::{Record, RecordSink, SourceInfo};
pub use source::ReadOptions;

/// Reads and checks a whole file: a roles workbook by its sheets, anything else as a list
/// of users.
pub fn parse_file(
    path: &std::path::Path,
    opts: &ReadOptions,
    mapping: &[(Field, String)],
) -> Result<Parsed, ImportError> {
    if opts.sheet.is_none() && workbook::is_roles_workbook(path) {
        return workbook::parse(path, opts, mapping);
    }
    validate::parse_list(path, opts, mapping)
}
