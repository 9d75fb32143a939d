//! Reads a user list as records, streaming, from CSV (any common encoding and delimiter)
//! or a spreadsheet (XLSX cell by cell; XLS and ODS too). Memory stays bounded: lines are
//! capped, and an XLSX's declared sizes are checked before anything is unpacked.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use calamine::{Data, DataRef, Reader, Xlsx};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::error::ImportError;
pub use super::record::{MAX_LINE, Record, RecordSink, SourceInfo};

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force an encoding ("utf-8", "utf-16le", "windows-1252", ...); else detected.
    pub encoding: Option<String>,
    /// Which sheet of a workbook; else the first.
    pub sheet: Option<String>,
    /// The row that holds the column names; else the first that names known columns.
    pub header_row: Option<u64>,
    /// Columns to leave unread though their names would be recognised (`--ignore`).
    pub ignore: Vec<String>,
    /// Told of the rows read.
    pub progress: super::Progress,
}

/// An XLSX whose parts unpack to more than this is refused before reading.
pub const MAX_UNPACKED: u64 = 2 << 30;
/// A part that unpacks to more than this many times its packed size is a zip bomb.
const MAX_RATIO: u64 = 200;

pub fn read(
    path: &Path,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> Result<SourceInfo, ImportError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| ImportError::Io {
        file: name.clone(),
        reason: e.to_string(),
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut file, &mut head).map_err(io)?;
    if n == 0 {
        return Err(ImportError::Empty { file: name });
    }
    file.rewind().map_err(io)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if head.starts_with(b"PK\x03\x04") {
        return match ext.as_str() {
            "ods" => read_range(&name, path, file, opts, "ods", sink),
            _ => read_xlsx(&name, file, opts, sink),
        };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return read_range(&name, path, file, opts, "xls", sink);
    }
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        return Err(ImportError::Corrupt {
            file: name,
            reason: format!("a .{ext} file should be a spreadsheet archive, and this one is not"),
        });
    }
    let mut start = vec![0u8; 4096];
    let n = read_up_to(&mut file, &mut start).map_err(io)?;
    start.truncate(n);
    file.rewind().map_err(io)?;
    let text = String::from_utf8_lossy(start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&start));
    if super::ldif::looks_like_ldif(&text) || matches!(ext.as_str(), "ldif" | "ldf") {
        return super::ldif::read_ldif(&name, file, sink);
    }
    if text.trim_start().starts_with(['{', '[']) {
        return Err(ImportError::Corrupt {
            file: name,
            reason: "this is JSON, which usher does not read as a user list; it reads CSV \
                     and text (any delimiter), XLSX, XLS, ODS and LDIF: export the users as \
                     CSV or LDIF"
                .into(),
        });
    }
    read_csv(&name, file, opts, sink)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------- CSV

/// The encoding: a BOM says it; else UTF-8 if every byte is valid UTF-8; else
/// Windows-1252 (what Excel writes on Windows), with a note saying why.
fn detect_encoding(
    name: &str,
    file: &mut File,
    forced: Option<&str>,
) -> Result<(&'static Encoding, Option<String>), ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        file: name.to_owned(),
        reason: e.to_string(),
    };
    let mut head = [0u8; 3];
    let n = read_up_to(file, &mut head).map_err(io)?;
    file.rewind().map_err(io)?;
    if let Some(label) = forced {
        let enc =
            Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| ImportError::Encoding {
                file: name.to_owned(),
                reason: format!(
                    "unknown encoding '{label}'; try utf-8, utf-16le, utf-16be or windows-1252"
                ),
            })?;
        if enc == UTF_8 {
            check_utf8(name, file)?.map_or(Ok(()), |(offset, row)| {
                Err(ImportError::Encoding {
                    file: name.to_owned(),
                    reason: format!(
                        "row {row} (byte {offset}) is not valid UTF-8; try --encoding windows-1252"
                    ),
                })
            })?;
        }
        return Ok((enc, None));
    }
    match &head[..n] {
        [0xEF, 0xBB, 0xBF, ..] => return Ok((UTF_8, None)),
        [0xFF, 0xFE, ..] => return Ok((UTF_16LE, None)),
        [0xFE, 0xFF, ..] => return Ok((UTF_16BE, None)),
        _ => {}
    }
    match check_utf8(name, file)? {
        None => Ok((UTF_8, None)),
        Some((offset, row)) => Ok((
            WINDOWS_1252,
            Some(format!(
                "read as Windows-1252: row {row} (byte {offset}) is not valid UTF-8"
            )),
        )),
    }
}

/// The first invalid UTF-8 byte's offset and row, if any. One fast pass over the file.
fn check_utf8(name: &str, file: &mut File) -> Result<Option<(u64, u64)>, ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        file: name.to_owned(),
        reason: e.to_string(),
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut carry: Vec<u8> = Vec::new();
    let (mut offset, mut rows) = (0u64, 1u64);
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(), // cut in the middle of a character
            Err(e) => {
                let at = e.valid_up_to();
                rows += carry[..at].iter().filter(|b| **b == b'\n').count() as u64;
                file.rewind().map_err(io)?;
                return Ok(Some((offset + at as u64, rows)));
            }
        };
        rows += carry[..valid].iter().filter(|b| **b == b'\n').count() as u64;
        offset += valid as u64;
        carry.drain(..valid);
    }
    file.rewind().map_err(io)?;
    if !carry.is_empty() {
        return Ok(Some((offset, rows)));
    }
    Ok(None)
}

/// Comma, semicolon, tab or pipe: the one the header line uses most, outside quotes.
/// The header may come after a title or a `#TYPE` line, so each delimiter is counted on
/// every one of the first lines and scored by its best line.
fn detect_delimiter(sample: &str) -> u8 {
    const LINES: usize = 20;
    let mut best = [0usize; 4];
    let ds = [',', ';', '\t', '|'];
    let mut quoted = false;
    let mut counts = [0usize; 4];
    let mut lines = 0;
    for c in sample.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => {
                for i in 0..4 {
                    best[i] = best[i].max(counts[i]);
                }
                counts = [0; 4];
                lines += 1;
                if lines == LINES {
                    break;
                }
            }
            c if !quoted => {
                if let Some(i) = ds.iter().position(|d| *d == c) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    for i in 0..4 {
        best[i] = best[i].max(counts[i]);
    }
    [b',', b';', b'\t', b'|']
        .into_iter()
        .zip(best)
        .max_by_key(|(b, n)| n * 4 + usize::from(*b == b','))
        .map_or(b',', |(b, _)| b)
}

/// Refuses a line longer than `MAX_LINE` bytes, so one 100 MB line cannot fill memory.
struct LineGuard<R> {
    inner: R,
    since_newline: usize,
    lines: u64,
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for b in &buf[..n] {
            if *b == b'\n' {
                self.since_newline = 0;
                self.lines += 1;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is longer than {} bytes", self.lines + 1, MAX_LINE),
                    ));
                }
            }
        }
        Ok(n)
    }
}

fn read_csv(
    name: &str,
    mut file: File,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> Result<SourceInfo, ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        file: name.to_owned(),
        reason: e.to_string(),
    };
    let (encoding, note) = detect_encoding(name, &mut file, opts.encoding.as_deref())?;
    let mut decoder = encoding_rs_io::DecodeReaderBytesBuilder::new();
    decoder
        .encoding(Some(encoding))
        .bom_override(true)
        .strip_bom(true);
    // The first 64 KB, decoded, to choose the delimiter: one read of a decoder may
    // return only a few bytes, so read until the sample is full or the file ends.
    let sample = {
        let mut buf = vec![0u8; 1 << 16];
        let n = read_up_to(&mut decoder.build(&mut file), &mut buf).map_err(io)?;
        buf.truncate(n);
        String::from_utf8_lossy(&buf).into_owned()
    };
    file.rewind().map_err(io)?;
    if sample.contains('\0') {
        return Err(ImportError::Corrupt {
            file: name.to_owned(),
            reason: "this is a binary file, not a CSV or spreadsheet".into(),
        });
    }
    let guarded = BufReader::with_capacity(
        1 << 16,
        LineGuard {
            inner: decoder.build(file),
            since_newline: 0,
            lines: 0,
        },
    );
    let delimiter = detect_delimiter(&sample);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(guarded);
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map_or(row + 1, |p| p.record() + 1);
                return Err(ImportError::Csv {
                    file: name.to_owned(),
                    row: at,
                    reason: csv_reason(&e),
                });
            }
        }
        row += 1;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().any(|c| !c.trim().is_empty()) {
            sink.record(Record { row, cells })?;
        }
    }
    if row == 0 {
        return Err(ImportError::Empty {
            file: name.to_owned(),
        });
    }
    Ok(SourceInfo {
        format: "csv".into(),
        encoding: Some(encoding.name().to_owned()),
        delimiter: Some(match delimiter {
            b'\t' => "tab".to_owned(),
            d => (d as char).to_string(),
        }),
        sheet: None,
        note,
        ..SourceInfo::default()
    })
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "the text is not valid in the file's encoding".into(),
        other => format!("{other:?}"),
    }
}

// --------------------------------------------------------------------- spreadsheets

/// Refuses an archive whose parts claim to unpack to too much, or too much per byte.
fn check_archive(name: &str, file: &File) -> Result<(), ImportError> {
    let corrupt = |reason: String| ImportError::Corrupt {
        file: name.to_owned(),
        reason,
    };
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| corrupt(format!("not a readable spreadsheet archive: {e}")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| corrupt(format!("damaged archive: {e}")))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > 64 << 20 && size / packed > MAX_RATIO {
            return Err(ImportError::TooLarge {
                file: name.to_owned(),
                reason: format!(
                    "part {} unpacks to {} MB from {} KB: a zip bomb, not a spreadsheet",
                    crate::domain::sanitize::escape_for_display(
                        &entry.name().map(|n| n.into_owned()).unwrap_or_default()
                    ),
                    size >> 20,
                    packed >> 10
                ),
            });
        }
    }
    if total > MAX_UNPACKED {
        return Err(ImportError::TooLarge {
            file: name.to_owned(),
            reason: format!(
                "it unpacks to {} MB; the limit is {} MB",
                total >> 20,
                MAX_UNPACKED >> 20
            ),
        });
    }
    Ok(())
}

fn cell_text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

fn pick_sheet(name: &str, sheets: &[String], wanted: Option<&str>) -> Result<String, ImportError> {
    match wanted {
        Some(w) => sheets
            .iter()
            .find(|s| s.eq_ignore_ascii_case(w))
            .cloned()
            .ok_or_else(|| ImportError::Sheet {
                file: name.to_owned(),
                reason: format!("no sheet '{w}'; the sheets are {}", sheets.join(", ")),
            }),
        None => sheets.first().cloned().ok_or_else(|| ImportError::Empty {
            file: name.to_owned(),
        }),
    }
}

/// XLSX, cell by cell (calamine's cells reader), so a million rows never sit in memory
/// as one grid, and a lone cell at XFD1048576 costs one cell, not sixteen billion.
fn read_xlsx(
    name: &str,
    file: File,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> Result<SourceInfo, ImportError> {
    check_archive(name, &file)?;
    let corrupt = |e: calamine::XlsxError| ImportError::Corrupt {
        file: name.to_owned(),
        reason: e.to_string(),
    };
    let mut book: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(corrupt)?;
    let sheet = pick_sheet(name, &book.sheet_names(), opts.sheet.as_deref())?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(corrupt)?;
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut seen = false;
    let mut emit =
        |row: u32, values: Vec<String>, sink: &mut dyn RecordSink| -> Result<(), ImportError> {
            if values.iter().all(|v| v.trim().is_empty()) {
                return Ok(());
            }
            seen = true;
            sink.record(Record {
                row: u64::from(row) + 1,
                cells: values,
            })
        };
    while let Some(cell) = cells.next_cell().map_err(corrupt)? {
        let (r, c) = cell.get_position();
        let text = cell_text(cell.get_value());
        if current.as_ref().is_some_and(|(row, _)| *row != r)
            && let Some((row, values)) = current.take()
        {
            emit(row, values, sink)?;
        }
        let (_, values) = current.get_or_insert_with(|| (r, Vec::new()));
        // Only columns up to the last one with text grow the row; empty far-off cells cost nothing.
        if !text.is_empty() {
            let c = c as usize;
            if values.len() <= c {
                values.resize(c + 1, String::new());
            }
            values[c] = text;
        }
    }
    if let Some((row, values)) = current.take() {
        emit(row, values, sink)?;
    }
    if !seen {
        return Err(ImportError::Empty {
            file: name.to_owned(),
        });
    }
    Ok(SourceInfo {
        format: "xlsx".into(),
        encoding: None,
        delimiter: None,
        sheet: Some(sheet),
        note: None,
        ..SourceInfo::default()
    })
}

/// XLS (at most 65,536 rows) and ODS, through calamine's grid.
fn read_range(
    name: &str,
    path: &Path,
    file: File,
    opts: &ReadOptions,
    format: &str,
    sink: &mut dyn RecordSink,
) -> Result<SourceInfo, ImportError> {
    if format == "ods" {
        check_archive(name, &file)?;
    }
    drop(file);
    let corrupt = |e: calamine::Error| ImportError::Corrupt {
        file: name.to_owned(),
        reason: e.to_string(),
    };
    let mut book = calamine::open_workbook_auto(path).map_err(corrupt)?;
    let sheet = pick_sheet(name, &book.sheet_names(), opts.sheet.as_deref())?;
    let range = book.worksheet_range(&sheet).map_err(corrupt)?;
    let start_row = range.start().map_or(0, |(r, _)| r);
    let start_col = range.start().map_or(0, |(_, c)| c) as usize;
    let mut seen = false;
    for (i, row) in range.rows().enumerate() {
        let mut values = vec![String::new(); start_col];
        values.extend(row.iter().map(|d: &Data| d.to_string()));
        if values.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        seen = true;
        sink.record(Record {
            row: u64::from(start_row) + i as u64 + 1,
            cells: values,
        })?;
    }
    if !seen {
        return Err(ImportError::Empty {
            file: name.to_owned(),
        });
    }
    Ok(SourceInfo {
        format: format.into(),
        encoding: None,
        delimiter: None,
        sheet: Some(sheet),
        note: None,
        ..SourceInfo::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_the_one_the_header_uses() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3"), b',');
        assert_eq!(detect_delimiter("a;b;c\n"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(
            detect_delimiter("\"x;y\",b\n"),
            b',',
            "quoted separators do not count"
        );
        assert_eq!(detect_delimiter("single"), b',');
    }
}
