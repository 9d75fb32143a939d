//! Reading a directory over LDAP: connect (ldaps://, or ldap:// with StartTLS unless the
//! source says not), bind, and one paged subtree search, every entry read before anything
//! is planned. A directory that drops, refuses or stops short (a size limit) fails the
//! read whole: a run never plans on part of a directory, as that would take everyone
//! beyond the cut for leavers.

use std::collections::HashMap;
use std::sync::Arc;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::error::DirectoryError;
use crate::config::SyncSource;

/// An entry as read: its DN and its values by attribute, names lower-cased. Binary
/// values (AD's objectGUID) are kept as bytes.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub dn: String,
    pub text: HashMap<String, Vec<String>>,
    pub binary: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    /// The first text value of an attribute.
    pub fn first(&self, attr: &str) -> Option<&str> {
        self.text
            .get(&attr.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn all(&self, attr: &str) -> &[String] {
        self.text
            .get(&attr.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    pub fn bytes(&self, attr: &str) -> Option<&[u8]> {
        self.binary
            .get(&attr.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(Vec::as_slice)
    }

    fn from_search(e: SearchEntry) -> Self {
        Self {
            dn: e.dn,
            text: lowered(e.attrs),
            binary: lowered(e.bin_attrs),
        }
    }
}

/// The same values by lower-cased attribute name.
fn lowered<V>(m: HashMap<String, Vec<V>>) -> HashMap<String, Vec<V>> {
    m.into_iter()
        .map(|(k, v)| (attribute_name(&k), v))
        .collect()
}

/// `member;range=0-1499` is member: options do not change which attribute it is.
fn attribute_name(k: &str) -> String {
    k.split(';').next().unwrap_or(k).to_ascii_lowercase()
}

/// What one read of a directory gave.
#[derive(Debug, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
    /// For each group the source maps to a role: its members' DNs, normalised.
    pub groups: HashMap<String, Vec<String>>,
}

/// Told how many entries have been read so far, after each.
pub type OnEntry<'a> = &'a mut (dyn FnMut(u64) + Send);

/// A connection, bound.
struct Bound {
    ldap: ldap3::Ldap,
}

async fn connect(source: &SyncSource) -> Result<Bound, DirectoryError> {
    let unreachable = |e: ldap3::LdapError| DirectoryError::Unreachable {
        url: source.url.clone(),
        reason: shown(&e),
    };
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(source.timeout)
        .set_starttls(source.starttls && source.url.starts_with("ldap://"));
    if let Some(config) = tls_config(source)? {
        settings = settings.set_config(config);
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &source.url)
        .await
        .map_err(unreachable)?;
    ldap3::drive!(conn);
    ldap.with_timeout(source.timeout);
    let password = source
        .password()
        .map_err(|e| DirectoryError::Setup(e.to_string()))?;
    if let Some(dn) = &source.bind_dn {
        let pw = password.as_ref().map_or("", |p| p.expose());
        let result = ldap.simple_bind(dn, pw).await.map_err(unreachable)?;
        if result.rc != 0 {
            return Err(DirectoryError::Bind {
                dn: dn.clone(),
                rc: result.rc,
                text: result.text,
            });
        }
    }
    Ok(Bound { ldap })
}

/// The roots to trust: the source's CA file when it names one, else the system's.
fn tls_config(source: &SyncSource) -> Result<Option<Arc<rustls::ClientConfig>>, DirectoryError> {
    let Some(path) = &source.ca_file else {
        return Ok(None);
    };
    let bad = |e: String| DirectoryError::Setup(format!("ca_file {}: {e}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    crate::tls::add_pem(&mut roots, &pem).map_err(bad)?;
    crate::tls::client_config(roots).map(Some).map_err(bad)
}

/// The attributes asked for: those the mapping reads, and no others.
fn wanted(source: &SyncSource) -> Vec<String> {
    let a = &source.attributes;
    let mut out: Vec<String> = a.email.clone();
    out.extend([
        a.first_name.clone(),
        a.last_name.clone(),
        a.display_name.clone(),
        a.reference.clone(),
        a.changed.clone(),
    ]);
    out.extend(a.disabled.iter().cloned());
    out.extend(a.member_of.iter().cloned());
    out.sort_by_key(|x| x.to_ascii_lowercase());
    out.dedup_by(|x, y| x.eq_ignore_ascii_case(y));
    out
}

/// Reads every entry `filter` selects under the source's base (the source's own filter,
/// or for an incremental run that filter limited to what changed), and the members of
/// its mapped groups.
pub async fn read(
    source: &SyncSource,
    filter: &str,
    on_entry: OnEntry<'_>,
) -> Result<Read, DirectoryError> {
    let mut bound = connect(source).await?;
    let attrs = wanted(source);
    let entries = search(source, &mut bound, filter, &attrs, on_entry).await?;
    let mut groups = HashMap::new();
    for g in &source.groups {
        let members = group_members(source, &mut bound, &g.dn).await?;
        groups.insert(normal_dn(&g.dn), members);
    }
    let _ = bound.ldap.unbind().await;
    Ok(Read { entries, groups })
}

async fn search(
    source: &SyncSource,
    bound: &mut Bound,
    filter: &str,
    attrs: &[String],
    on_entry: OnEntry<'_>,
) -> Result<Vec<Entry>, DirectoryError> {
    let dropped = |e: ldap3::LdapError| DirectoryError::Dropped {
        url: source.url.clone(),
        reason: shown(&e),
    };
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(source.page_size as i32)),
    ];
    let mut stream = bound
        .ldap
        .streaming_search_with(adapters, &source.base_dn, Scope::Subtree, filter, attrs)
        .await
        .map_err(dropped)?;
    let mut out = Vec::new();
    while let Some(raw) = stream.next().await.map_err(|e| DirectoryError::Dropped {
        url: source.url.clone(),
        reason: format!("after {} entries: {}", out.len(), shown(&e)),
    })? {
        out.push(Entry::from_search(SearchEntry::construct(raw)));
        on_entry(out.len() as u64);
    }
    let done = stream.finish().await;
    if done.rc != 0 {
        return Err(DirectoryError::Search {
            base: source.base_dn.clone(),
            rc: done.rc,
            text: done.text,
            read: out.len() as u64,
        });
    }
    Ok(out)
}

/// A group's members by DN: its member and uniqueMember values.
async fn group_members(
    source: &SyncSource,
    bound: &mut Bound,
    dn: &str,
) -> Result<Vec<String>, DirectoryError> {
    let res = bound
        .ldap
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["member", "uniqueMember"],
        )
        .await
        .map_err(|e| DirectoryError::Dropped {
            url: source.url.clone(),
            reason: shown(&e),
        })?;
    let (found, result) = (res.0, res.1);
    if result.rc != 0 && result.rc != 32 {
        return Err(DirectoryError::Search {
            base: dn.to_owned(),
            rc: result.rc,
            text: result.text,
            read: 0,
        });
    }
    let Some(group) = found
        .into_iter()
        .next()
        .map(|e| Entry::from_search(SearchEntry::construct(e)))
    else {
        return Err(DirectoryError::NoGroup {
            source_name: source.name.clone(),
            dn: dn.to_owned(),
        });
    };
    let mut members: Vec<String> = group
        .all("member")
        .iter()
        .chain(group.all("uniqueMember"))
        .map(|m| normal_dn(m))
        .collect();
    members.sort();
    members.dedup();
    Ok(members)
}

/// An LDAP error as said to the operator: the server's words may hold anything, so
/// they are escaped.
fn shown(e: &ldap3::LdapError) -> String {
    crate::domain::sanitize::escape_for_display(&e.to_string())
}

/// A DN as compared: lower case, no spaces around its separators. Enough for the DNs one
/// directory writes of its own entries; escaped commas stay as they are.
pub fn normal_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for part in dn.split(',') {
        if !out.is_empty() {
            out.push(',');
        }
        let part = part.trim();
        match part.split_once('=') {
            Some((k, v)) => {
                out.push_str(k.trim());
                out.push('=');
                out.push_str(v.trim());
            }
            None => out.push_str(part),
        }
    }
    out.to_lowercase()
}
