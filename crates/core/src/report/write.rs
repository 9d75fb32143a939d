//! Report files, written row by row so that a million users need no more memory than a
//! page of them: CSV through `csv`, XLSX through rust_xlsxwriter's constant-memory mode.
//! Every cell is a string (an XLSX cell is never a formula; a CSV cell is defused by
//! `safe_cell`). The file appears under its name only when complete.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format as XlsxFormat, Workbook, Worksheet};

use super::cell::safe_cell;
use crate::error::{Error, Result};

/// A report's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(Error::invalid(
                "format",
                format!("'{other}' is not csv or xlsx"),
            )),
        }
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Where report rows go.
pub trait Sink: Send {
    fn row(&mut self, cells: &[String]) -> Result<()>;
    /// Closes the file and gives it its name.
    fn finish(self: Box<Self>) -> Result<()>;
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid("output", format!("{}: {e}", path.display()))
}

/// A sink writing `format` to `path`, starting with `header` (on a sheet named `sheet`).
pub fn open(path: &Path, format: Format, sheet: &str, header: &[&str]) -> Result<Box<dyn Sink>> {
    let partial = path.with_extension(format!("{}.partial", format.extension()));
    let mut sink: Box<dyn Sink> = match format {
        Format::Csv => {
            let file = File::create(&partial).map_err(|e| io(&partial, e))?;
            Box::new(CsvSink {
                out: csv::Writer::from_writer(BufWriter::new(file)),
                partial,
                path: path.to_owned(),
            })
        }
        Format::Xlsx => {
            let mut wb = Workbook::new();
            let bold = XlsxFormat::new().set_bold();
            let ws = wb
                .add_worksheet_with_constant_memory()
                .map_err(|e| io(path, e))?;
            ws.set_name(sheet).map_err(|e| io(path, e))?;
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, col(c), *h, &bold)
                    .map_err(|e| io(path, e))?;
            }
            Box::new(XlsxSink {
                wb,
                next: 1,
                partial,
                path: path.to_owned(),
            })
        }
    };
    if format == Format::Csv {
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        sink.row(&header)?;
    }
    Ok(sink)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

struct CsvSink {
    out: csv::Writer<BufWriter<File>>,
    partial: PathBuf,
    path: PathBuf,
}

impl Sink for CsvSink {
    fn row(&mut self, cells: &[String]) -> Result<()> {
        self.out
            .write_record(cells.iter().map(|c| safe_cell(c)))
            .map_err(|e| io(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let Self {
            out, partial, path, ..
        } = *self;
        out.into_inner()
            .map_err(|e| io(&path, e.error()))?
            .into_inner()
            .map_err(|e| io(&path, e.error()))?
            .sync_all()
            .map_err(|e| io(&path, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io(&path, e))
    }
}

struct XlsxSink {
    wb: Workbook,
    next: u32,
    partial: PathBuf,
    path: PathBuf,
}

impl XlsxSink {
    fn sheet(&mut self) -> Result<&mut Worksheet> {
        self.wb
            .worksheet_from_index(0)
            .map_err(|e| io(&self.path, e))
    }
}

impl Sink for XlsxSink {
    fn row(&mut self, cells: &[String]) -> Result<()> {
        let r = self.next;
        let path = self.path.clone();
        let ws = self.sheet()?;
        for (c, v) in cells.iter().enumerate() {
            // Strings only: a spreadsheet never evaluates them. Control characters are
            // escaped as in the CSV.
            ws.write_string(r, col(c), crate::domain::sanitize::escape_for_display(v))
                .map_err(|e| io(&path, e))?;
        }
        self.next += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let (partial, path) = (self.partial.clone(), self.path.clone());
        self.wb.save(&partial).map_err(|e| io(&path, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io(&path, e))
    }
}
