//! A directory's entries as the rows an import reads: each entry's address, names,
//! reference and state by the source's mapping, checked by the same rules as a file's
//! rows. Entries are taken in DN order, so that a row's number, and so the plan's digest,
//! is the same from one read to the next whatever order the server sent them in.

use std::collections::HashMap;

use sha2::Digest;

use super::ldap::{Entry, Read, normal_dn};
use crate::config::SyncSource;
use crate::import::ldif::{guid, sid};
use crate::import::validate::parse_records;
use crate::import::{ImportError, Parsed, Record, SourceInfo};

/// The columns made, named as usher's own template names them.
const HEADER: [&str; 7] = [
    "email",
    "first_name",
    "last_name",
    "display_name",
    "unique_ref",
    "enabled",
    "user_type",
];

/// A directory read as an import: the rows, and what each row's entry was.
#[derive(Debug)]
pub struct Rows {
    pub parsed: Parsed,
    /// By row number less one: the entry's DN, for messages.
    pub dns: Vec<String>,
    /// By row number less one: the mapped groups the entry is in, normalised DNs.
    pub groups: Vec<Vec<String>>,
    /// The address and reference of each entry with faults, lower-cased: the users they
    /// name are not taken for leavers.
    pub faulty_emails: Vec<String>,
    pub faulty_refs: Vec<String>,
    /// A fingerprint of what was read, recorded with the run's batch.
    pub sha256: String,
    /// The latest change marker read (AD's uSNChanged, OpenLDAP's modifyTimestamp):
    /// where the next incremental run starts.
    pub cursor: Option<String>,
}

impl Rows {
    /// The DN of the entry a row was made from.
    pub fn dn(&self, row: u64) -> Option<&str> {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|i| self.dns.get(i))
            .map(String::as_str)
    }
}

/// Turns what was read into checked rows.
pub fn rows(source: &SyncSource, read: Read) -> Result<Rows, ImportError> {
    let Read {
        mut entries,
        groups,
    } = read;
    let mut keyed: Vec<(String, Entry)> =
        entries.drain(..).map(|e| (normal_dn(&e.dn), e)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    // Each member's groups: a group's member list turned round.
    let mut member_of: HashMap<&str, Vec<String>> = HashMap::new();
    for (group, members) in &groups {
        for m in members {
            member_of.entry(m.as_str()).or_default().push(group.clone());
        }
    }
    let mut records = Vec::with_capacity(keyed.len() + 1);
    records.push(Record {
        row: 0,
        cells: HEADER.iter().map(|h| (*h).to_owned()).collect(),
    });
    let cursor = keyed
        .iter()
        .filter_map(|(_, e)| e.first(&source.attributes.changed))
        .max_by(|a, b| later(a, b))
        .map(str::to_owned);
    let mut dns = Vec::with_capacity(keyed.len());
    let mut hash = sha2::Sha256::new();
    let mut in_groups = Vec::with_capacity(keyed.len());
    for (i, (dn, e)) in keyed.iter().enumerate() {
        let cells = cells(source, e);
        for c in &cells {
            hash.update(c.as_bytes());
            hash.update([0]);
        }
        records.push(Record {
            row: i as u64 + 1,
            cells,
        });
        let mut mine: Vec<String> = member_of.get(dn.as_str()).cloned().unwrap_or_default();
        if let Some(attr) = &source.attributes.member_of {
            mine.extend(
                e.all(attr)
                    .iter()
                    .map(|g| normal_dn(g))
                    .filter(|g| groups.contains_key(g)),
            );
        }
        mine.sort();
        mine.dedup();
        in_groups.push(mine);
        dns.push(e.dn.clone());
    }
    let info = SourceInfo {
        format: "ldap".into(),
        encoding: Some("UTF-8".into()),
        header_row: 0,
        ..SourceInfo::default()
    };
    let keys: Vec<(String, String)> = records
        .iter()
        .skip(1)
        .map(|r| (r.cells[0].to_lowercase(), r.cells[4].clone()))
        .collect();
    let parsed = parse_records(&source.url, records, info)?;
    let bad: std::collections::BTreeSet<u64> = parsed.errors.iter().map(|e| e.row).collect();
    let (faulty_emails, faulty_refs) = bad
        .iter()
        .filter_map(|r| keys.get((*r as usize).checked_sub(1)?))
        .cloned()
        .unzip();
    Ok(Rows {
        parsed,
        dns,
        groups: in_groups,
        faulty_emails,
        faulty_refs,
        sha256: hex::encode(hash.finalize()),
        cursor,
    })
}

/// Orders change markers: numbers (uSNChanged) as numbers, anything else
/// (generalized time, which sorts as text) as text.
fn later(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The filter of an incremental run: the source's, and changed at or after `cursor`
/// (at: an entry changed in the same second as the last one read is read again, never
/// missed).
pub fn changed_since(source: &crate::config::SyncSource, cursor: &str) -> String {
    format!(
        "(&{}({}>={}))",
        source.filter,
        source.attributes.changed,
        ldap3::ldap_escape(cursor)
    )
}

/// One entry's cells, in `HEADER`'s order.
fn cells(source: &SyncSource, e: &Entry) -> Vec<String> {
    let a = &source.attributes;
    let text = |attr: &str| e.first(attr).unwrap_or_default().trim().to_owned();
    let email = a
        .email
        .iter()
        .map(|attr| text(attr))
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    let disabled = a.disabled.as_deref().is_some_and(|attr| disabled(e, attr));
    vec![
        email,
        text(&a.first_name),
        text(&a.last_name),
        text(&a.display_name),
        reference(e, &a.reference),
        if disabled { "false" } else { "true" }.to_owned(),
        source.user_type.map(|t| t.to_string()).unwrap_or_default(),
    ]
}

/// The stable reference as text: AD's binary GUID and SID in their usual forms, any
/// other binary value in hex. A GUID's 16 bytes are sometimes valid UTF-8 and arrive as
/// text, so for those two the bytes are read whichever way they came.
fn reference(e: &Entry, attr: &str) -> String {
    let lower = attr.to_ascii_lowercase();
    let binary = matches!(lower.as_str(), "objectguid" | "objectsid");
    if !binary && let Some(t) = e.first(attr) {
        return t.trim().to_owned();
    }
    let Some(b) = e.bytes(attr).or(e.first(attr).map(str::as_bytes)) else {
        return String::new();
    };
    let made = match lower.as_str() {
        "objectguid" => guid(b),
        "objectsid" => sid(b),
        _ => None,
    };
    made.unwrap_or_else(|| hex::encode(b))
}

/// Whether the entry is disabled: AD's userAccountControl by its bit 2 (ACCOUNTDISABLE),
/// any other attribute by holding a value that is not false (OpenLDAP's
/// pwdAccountLockedTime, nsAccountLock: TRUE).
fn disabled(e: &Entry, attr: &str) -> bool {
    if attr.eq_ignore_ascii_case("userAccountControl") {
        return e
            .first(attr)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .is_some_and(|flags| flags & 2 != 0);
    }
    e.first(attr).is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "false" | "0" | "no"
        )
    }) || e.bytes(attr).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry {
            dn: dn.into(),
            ..Entry::default()
        };
        for (k, v) in attrs {
            e.text
                .entry(k.to_ascii_lowercase())
                .or_default()
                .push((*v).to_owned());
        }
        e
    }

    #[test]
    fn an_incremental_filter_and_its_cursor() -> Result<(), Box<dyn std::error::Error>> {
        let cfg = crate::config::Config::from_toml(
            "[[sync.source]]\nname=\"ad\"\nkind=\"ad\"\nurl=\"ldap://x\"\nbase_dn=\"dc=x\"\n",
            &Default::default(),
            &[("USHER_DATA_DIR", "/tmp/x")],
        )?;
        let s = &cfg.sync[0];
        assert_eq!(
            changed_since(s, "91234"),
            "(&(&(objectCategory=person)(objectClass=user))(uSNChanged>=91234))"
        );
        // A cursor is the directory's text: escaped, never a filter of its own.
        assert!(changed_since(s, "1)(cn=*").ends_with("(uSNChanged>=1\\29\\28cn=\\2a))"));
        // uSNChanged compares as a number, generalized time as text.
        assert_eq!(later("9999", "10000"), std::cmp::Ordering::Less);
        assert_eq!(
            later("20261206190007Z", "20261206185959Z"),
            std::cmp::Ordering::Greater
        );
        Ok(())
    }

    #[test]
    fn ad_entries_read_by_the_ad_mapping() -> Result<(), Box<dyn std::error::Error>> {
        let cfg = crate::config::Config::from_toml(
            "[[sync.source]]\nname=\"ad\"\nkind=\"ad\"\nurl=\"ldap://127.0.0.1\"\nbase_dn=\"dc=x\"\n",
            &Default::default(),
            &[("USHER_DATA_DIR", "/tmp/x")],
        )?;
        let source = &cfg.sync[0];
        let mut bob = entry(
            "CN=Bob, OU=People,DC=acme,DC=test",
            &[
                ("userPrincipalName", "bob@acme.test"),
                ("givenName", "Bob"),
                ("sn", "Ng"),
                ("userAccountControl", "514"),
            ],
        );
        bob.binary.insert(
            "objectguid".into(),
            vec![vec![
                0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff,
            ]],
        );
        // A GUID whose bytes happen to be UTF-8 arrives as text: still a GUID.
        let mut cy = entry(
            "cn=Cy,ou=people,dc=acme,dc=test",
            &[("mail", "cy@acme.test")],
        );
        cy.text.insert(
            "objectguid".into(),
            vec![String::from_utf8((0x10..0x20).collect())?],
        );
        let ann = entry(
            "cn=Ann,ou=people,dc=acme,dc=test",
            &[("mail", "ann@acme.test"), ("userAccountControl", "512")],
        );
        let rows = rows(
            source,
            Read {
                entries: vec![bob, ann, cy],
                groups: HashMap::new(),
            },
        )?;
        let p = &rows.parsed;
        assert_eq!(p.rows.len(), 3, "{:?}", p.errors);
        assert_eq!(
            p.rows[2].unique_ref(),
            Some("13121110-1514-1716-1819-1a1b1c1d1e1f")
        );
        // DN order: Ann's entry first whatever the server's order.
        assert_eq!(p.rows[0].email(), "ann@acme.test");
        assert!(!p.rows[0].disabled);
        assert_eq!(
            p.rows[1].email(),
            "bob@acme.test",
            "the UPN stands in for mail"
        );
        assert!(p.rows[1].disabled, "bit 2 of 514 is set");
        assert_eq!(
            p.rows[1].unique_ref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        assert_eq!(rows.dn(2), Some("CN=Bob, OU=People,DC=acme,DC=test"));
        Ok(())
    }
}
