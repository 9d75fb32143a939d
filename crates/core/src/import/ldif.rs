//! LDIF (RFC 2849) as `slapcat`, `ldapsearch -LLL` and `ldifde` write it: entries of
//! `attribute: value` lines separated by blank lines, long lines folded onto lines that
//! begin with a space, `attribute:: base64` for values that are not plain text, comments
//! after `#`. Each entry becomes a row whose cells are the attributes usher reads, in the
//! fixed order of `ATTRIBUTES`; its row number is the line the entry starts on, so a
//! fault points into the file. AD's binary `objectGUID` and `objectSid` are turned into
//! their usual text forms. Change records other than `add` are not users and are left
//! out; a value to be fetched from a URL (`attribute:< file://...`) is never fetched.

use std::io::{BufRead, BufReader, Read};

use base64::Engine;

use super::error::ImportError;
use super::record::{MAX_LINE, Record, RecordSink, SourceInfo};

/// The attributes read, as the header row names them (column recognition then works as
/// for any export). The last is made from `REFERENCES`.
pub const ATTRIBUTES: [&str; 9] = [
    "dn",
    "mail",
    "userPrincipalName",
    "givenName",
    "sn",
    "displayName",
    "cn",
    "userAccountControl",
    "uniqueReference",
];

/// A stable reference, best first: the entry's unique reference is the first it has.
const REFERENCES: [&str; 4] = ["objectguid", "objectsid", "entryuuid", "employeeid"];

/// Whether text that starts a file looks like LDIF: its first line that is not blank or
/// a comment is `version: 1` or a `dn:`.
pub fn looks_like_ldif(start: &str) -> bool {
    start
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("version:") || l.starts_with("dn:") || l.starts_with("dn::")
        })
}

/// One entry being read: its first line, its attribute values (the first of each).
#[derive(Default)]
struct Entry {
    line: u64,
    cells: Vec<String>,
    skip: bool,
    /// A person by its object class, or an entry with an address: a user, kept even
    /// when faulty (an account with no address is a row to fix, not one to lose).
    person: bool,
    /// Where in `REFERENCES` the reference read so far stands (lower is better).
    reference: usize,
}

/// Object classes of people and accounts; an OU or a group has none of them.
const PERSON_CLASSES: [&str; 6] = [
    "person",
    "organizationalperson",
    "inetorgperson",
    "user",
    "posixaccount",
    "account",
];

impl Entry {
    fn start(line: u64) -> Self {
        Self {
            line,
            cells: vec![String::new(); ATTRIBUTES.len()],
            skip: false,
            person: false,
            reference: REFERENCES.len(),
        }
    }
}

pub fn read_ldif(
    name: &str,
    file: impl Read,
    sink: &mut dyn RecordSink,
) -> Result<SourceInfo, ImportError> {
    let fail = |line: u64, reason: String| ImportError::Csv {
        file: name.to_owned(),
        row: line,
        reason,
    };
    sink.record(Record {
        row: 0,
        cells: ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect(),
    })?;
    let mut reader = BufReader::new(file);
    let mut raw = Vec::new();
    let mut number = 0u64;
    // The logical line being gathered (folded lines joined) and where it began.
    let mut logical: Option<(u64, String)> = None;
    let mut entry: Option<Entry> = None;
    loop {
        raw.clear();
        let n = reader
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut raw)
            .map_err(|e| fail(number + 1, e.to_string()))?;
        if n > MAX_LINE {
            return Err(fail(number + 1, format!("a line over {MAX_LINE} bytes")));
        }
        let end = n == 0;
        if !end {
            number += 1;
        }
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim_end_matches(['\n', '\r']);
        if !end && text.starts_with(' ') {
            // A folded line: the rest of the one before (RFC 2849's continuation).
            if let Some((_, l)) = &mut logical {
                l.push_str(&text[1..]);
            }
            continue;
        }
        if let Some((at, l)) = logical.take() {
            take_line(at, &l, &mut entry, sink, &fail)?;
        }
        if end {
            break;
        }
        if text.trim().is_empty() {
            flush(&mut entry, sink)?;
        } else {
            logical = Some((number, text.to_owned()));
        }
    }
    flush(&mut entry, sink)?;
    Ok(SourceInfo {
        format: "ldif".into(),
        encoding: Some("UTF-8".into()),
        ..SourceInfo::default()
    })
}

/// One logical line: a comment, `version:`, `dn:` (a new entry), or an attribute.
fn take_line(
    at: u64,
    line: &str,
    entry: &mut Option<Entry>,
    sink: &mut dyn RecordSink,
    fail: &impl Fn(u64, String) -> ImportError,
) -> Result<(), ImportError> {
    if line.starts_with('#') {
        return Ok(());
    }
    let Some((attr, rest)) = line.split_once(':') else {
        return Err(fail(
            at,
            format!("'{}' is not 'attribute: value'", shown(line)),
        ));
    };
    // `cn;lang-en` is cn; the options do not change which attribute it is.
    let attr = attr.split(';').next().unwrap_or_default().trim();
    let value = if let Some(b64) = rest.strip_prefix(':') {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| fail(at, format!("{attr}: not base64 ({e})")))?;
        Value::Bytes(bytes)
    } else if rest.starts_with('<') {
        Value::Url
    } else {
        Value::Text(rest.trim_start().to_owned())
    };
    let lower = attr.to_ascii_lowercase();
    match lower.as_str() {
        "version" if entry.is_none() => return Ok(()),
        "dn" => {
            flush(entry, sink)?;
            let mut e = Entry::start(at);
            e.cells[0] = value.text();
            *entry = Some(e);
            return Ok(());
        }
        _ => {}
    }
    let Some(e) = entry else {
        return Err(fail(at, format!("'{}' comes before any dn:", shown(attr))));
    };
    if lower == "changetype" {
        e.skip = !value.text().eq_ignore_ascii_case("add");
        return Ok(());
    }
    if lower == "objectclass" {
        let class = value.text().to_ascii_lowercase();
        e.person |= PERSON_CLASSES.contains(&class.as_str());
        return Ok(());
    }
    if let Some(rank) = REFERENCES.iter().position(|r| *r == lower) {
        if rank < e.reference {
            e.reference = rank;
            e.cells[ATTRIBUTES.len() - 1] = match (lower.as_str(), value) {
                ("objectguid", Value::Bytes(b)) => guid(&b).unwrap_or_else(|| hex::encode(b)),
                ("objectsid", Value::Bytes(b)) => sid(&b).unwrap_or_else(|| hex::encode(b)),
                (_, v) => v.text(),
            };
        }
        return Ok(());
    }
    if let Some(i) = ATTRIBUTES.iter().position(|a| a.eq_ignore_ascii_case(attr))
        && e.cells[i].is_empty()
    {
        e.cells[i] = value.text();
        e.person |= matches!(lower.as_str(), "mail" | "userprincipalname");
    }
    Ok(())
}

/// The entry read so far goes to the sink if it is a user: not a change record, and a
/// person by its class or an entry with an address (an OU or a group is neither).
fn flush(entry: &mut Option<Entry>, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    match entry.take() {
        Some(e) if !e.skip && e.person => sink.record(Record {
            row: e.line,
            cells: e.cells,
        }),
        _ => Ok(()),
    }
}

enum Value {
    Text(String),
    Bytes(Vec<u8>),
    Url,
}

impl Value {
    /// As text: base64 that holds UTF-8 (a name with accents) reads as that text, bytes
    /// that do not are marked as undecodable so the row says so.
    fn text(self) -> String {
        match self {
            Value::Text(t) => t,
            Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::Url => String::new(),
        }
    }
}

fn shown(s: &str) -> String {
    crate::domain::sanitize::escape_for_display(&s.chars().take(60).collect::<String>())
}

/// AD's objectGUID as its usual text: the first three groups are stored little-endian.
pub fn guid(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        hex::encode(&b[10..])
    ))
}

/// A SID as `S-1-5-21-...`: revision, a 48-bit big-endian authority, then the
/// sub-authorities, each 32 bits little-endian.
pub fn sid(b: &[u8]) -> Option<String> {
    let (&revision, rest) = b.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let authority = rest
        .get(..6)?
        .iter()
        .fold(0u64, |a, x| (a << 8) | u64::from(*x));
    let subs = rest.get(6..)?;
    if subs.len() != usize::from(count) * 4 {
        return None;
    }
    let mut out = format!("S-{revision}-{authority}");
    for c in subs.chunks_exact(4) {
        out.push_str(&format!(
            "-{}",
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_ids_read_as_their_text_forms() {
        let g = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(
            guid(&g).as_deref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        // S-1-5-21-1004336348-1177238915-682003330-512
        let s = [
            1u8, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46,
            0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0x00, 0x00,
        ];
        assert_eq!(
            sid(&s).as_deref(),
            Some("S-1-5-21-1004336348-1177238915-682003330-512")
        );
        assert_eq!(sid(&s[..10]), None, "a cut SID is not read");
    }

    #[test]
    fn what_ldif_looks_like() {
        assert!(looks_like_ldif("# export\nversion: 1\n\ndn: cn=a"));
        assert!(looks_like_ldif("dn: CN=Ann,DC=acme\nchangetype: add"));
        assert!(!looks_like_ldif("email,first_name\n"));
    }
}
