//! The `[[sync.source]]` tables: directories usher follows (docs/sync.md). Each names its
//! server, how to bind, where to look, how its attributes map onto a user, what becomes
//! of people who leave, and the limits that stop a run gone wrong.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;
use crate::domain::Secret;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSync {
    #[serde(default)]
    source: Vec<FileSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSource {
    name: String,
    kind: Kind,
    url: String,
    bind_dn: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    base_dn: String,
    filter: Option<String>,
    ca_file: Option<PathBuf>,
    starttls: Option<bool>,
    page_size: Option<u32>,
    timeout_seconds: Option<u64>,
    #[serde(default)]
    attributes: FileAttributes,
    user_type: Option<crate::domain::UserType>,
    create: Option<Create>,
    missing: Option<Leavers>,
    #[serde(default)]
    limits: FileLimits,
    interval_minutes: Option<u64>,
    full_interval_hours: Option<u64>,
    #[serde(default)]
    group: Vec<FileGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAttributes {
    email: Option<Vec<String>>,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    reference: Option<String>,
    disabled: Option<String>,
    member_of: Option<String>,
    changed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    suspend: Option<u64>,
    suspend_percent: Option<f64>,
    remove: Option<u64>,
    remove_percent: Option<f64>,
    role_loss: Option<u64>,
    role_loss_percent: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    dn: String,
    role: String,
    mailbox: Option<String>,
}

/// Which directory it is: the defaults of the filter and the attribute mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ad,
    Openldap,
}

/// How a person new to usher is brought in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Create {
    /// An invitation is mailed; they enrol through its link.
    #[default]
    Invite,
    /// Created active at once as a corporate user; they set a password through a reset
    /// link (docs/sync.md#the-plan).
    Direct,
}

/// What becomes of users the directory no longer holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Leavers {
    #[default]
    Suspend,
    Keep,
    Remove,
}

/// Which attributes a user is read from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attributes {
    /// The first of these that an entry has is its address.
    pub email: Vec<String>,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    /// The stable reference: renames are found by it.
    pub reference: String,
    /// AD's userAccountControl (bit 2) or an attribute whose true value or presence
    /// means disabled (OpenLDAP's pwdAccountLockedTime); None: no one is disabled.
    pub disabled: Option<String>,
    /// The groups an entry is in, when the directory keeps them on the entry.
    pub member_of: Option<String>,
    /// What an incremental run filters on: AD's uSNChanged, OpenLDAP's modifyTimestamp.
    pub changed: String,
}

impl Attributes {
    fn defaults(kind: Kind) -> Self {
        let s = |x: &str| x.to_owned();
        match kind {
            Kind::Ad => Self {
                email: vec![s("mail"), s("userPrincipalName")],
                first_name: s("givenName"),
                last_name: s("sn"),
                display_name: s("displayName"),
                reference: s("objectGUID"),
                disabled: Some(s("userAccountControl")),
                member_of: Some(s("memberOf")),
                changed: s("uSNChanged"),
            },
            Kind::Openldap => Self {
                email: vec![s("mail")],
                first_name: s("givenName"),
                last_name: s("sn"),
                display_name: s("cn"),
                reference: s("entryUUID"),
                disabled: None,
                member_of: None,
                changed: s("modifyTimestamp"),
            },
        }
    }
}

/// The most one run may do of one kind of loss: a count and a share of the account's
/// active users. A run over either is held for approval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Limit {
    pub count: u64,
    pub percent: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Limits {
    pub suspend: Limit,
    pub remove: Limit,
    pub role_loss: Limit,
}

/// Members of a directory group hold a role (at account scope, or on a mailbox).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupRole {
    pub dn: String,
    pub role: String,
    pub mailbox: Option<String>,
}

/// One directory, resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncSource {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    pub bind_dn: Option<String>,
    #[serde(skip)]
    pub password_file: Option<PathBuf>,
    #[serde(skip)]
    pub password_env: Option<String>,
    pub base_dn: String,
    pub filter: String,
    pub ca_file: Option<PathBuf>,
    pub starttls: bool,
    pub page_size: u32,
    #[serde(skip)]
    pub timeout: Duration,
    pub attributes: Attributes,
    pub user_type: Option<crate::domain::UserType>,
    pub create: Create,
    pub missing: Leavers,
    pub limits: Limits,
    /// How often `usher serve` runs it; None: only by hand.
    #[serde(skip)]
    pub interval: Option<Duration>,
    /// How often a scheduled run reads the whole directory rather than what changed.
    #[serde(skip)]
    pub full_interval: Duration,
    pub groups: Vec<GroupRole>,
}

impl SyncSource {
    /// The bind password: from the environment variable named, else the file's first
    /// line. Read when a run starts, so that a missing file stops that source only.
    pub fn password(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(v) => Ok(Some(Secret::new(v))),
                Err(_) => Err(ConfigError::Value {
                    key: "sync.source.password_env",
                    reason: format!("source '{}': ${var} is not set", self.name),
                }),
            };
        }
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Secret {
            key: "sync.source.password_file",
            path: path.clone(),
            source,
        })?;
        Ok(Some(Secret::new(
            text.lines()
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_owned(),
        )))
    }
}

pub(super) fn resolve(f: FileSync) -> Result<Vec<SyncSource>, ConfigError> {
    let mut out: Vec<SyncSource> = Vec::new();
    for s in f.source {
        let source = resolve_source(s)?;
        if out.iter().any(|o| o.name == source.name) {
            return Err(bad(format!(
                "two sources are named '{}': each needs a name of its own",
                source.name
            )));
        }
        out.push(source);
    }
    Ok(out)
}

fn bad(reason: String) -> ConfigError {
    ConfigError::Value {
        key: "sync.source",
        reason,
    }
}

fn resolve_source(s: FileSource) -> Result<SyncSource, ConfigError> {
    let name = s.name.trim().to_owned();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(format!(
            "name '{}': letters, digits, - and _ only (it is typed as `usher sync NAME`)",
            crate::domain::sanitize::escape_for_display(&name)
        )));
    }
    let url = s.url.trim().to_owned();
    let ldaps = url.starts_with("ldaps://");
    if !(ldaps || url.starts_with("ldap://")) {
        return Err(bad(format!(
            "source '{name}': url '{url}' must start with ldap:// or ldaps://"
        )));
    }
    if s.password_file.is_some() && s.password_env.is_some() {
        return Err(bad(format!(
            "source '{name}': password_file or password_env, not both"
        )));
    }
    let defaults = Attributes::defaults(s.kind);
    let a = s.attributes;
    let attributes = Attributes {
        email: a.email.filter(|e| !e.is_empty()).unwrap_or(defaults.email),
        first_name: a.first_name.unwrap_or(defaults.first_name),
        last_name: a.last_name.unwrap_or(defaults.last_name),
        display_name: a.display_name.unwrap_or(defaults.display_name),
        reference: a.reference.unwrap_or(defaults.reference),
        disabled: match a.disabled {
            Some(d) if d.is_empty() => None,
            Some(d) => Some(d),
            None => defaults.disabled,
        },
        member_of: a.member_of.filter(|m| !m.is_empty()).or(defaults.member_of),
        changed: a.changed.unwrap_or(defaults.changed),
    };
    let filter = s
        .filter
        .unwrap_or_else(|| default_filter(s.kind).to_owned());
    if !(filter.starts_with('(') && filter.ends_with(')')) {
        return Err(bad(format!(
            "source '{name}': filter '{filter}' must be in parentheses, as (objectClass=person)"
        )));
    }
    let limits = limits(&name, &s.limits)?;
    let groups = s
        .group
        .into_iter()
        .map(|g| GroupRole {
            dn: g.dn,
            role: g.role,
            mailbox: g.mailbox,
        })
        .collect();
    Ok(SyncSource {
        starttls: s.starttls.unwrap_or(!ldaps && !loopback(&url)),
        kind: s.kind,
        bind_dn: s.bind_dn,
        password_file: s.password_file,
        password_env: s.password_env,
        base_dn: s.base_dn,
        filter,
        ca_file: s.ca_file,
        page_size: s.page_size.unwrap_or(500).clamp(1, 10_000),
        timeout: Duration::from_secs(s.timeout_seconds.unwrap_or(30).clamp(1, 3600)),
        attributes,
        user_type: s.user_type,
        create: s.create.unwrap_or_default(),
        missing: s.missing.unwrap_or_default(),
        limits,
        interval: s
            .interval_minutes
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(m * 60)),
        full_interval: Duration::from_secs(s.full_interval_hours.unwrap_or(24).max(1) * 3600),
        groups,
        url,
        name,
    })
}

/// People only: AD's computers are users too, and OpenLDAP's people are inetOrgPersons.
fn default_filter(kind: Kind) -> &'static str {
    match kind {
        Kind::Ad => "(&(objectCategory=person)(objectClass=user))",
        Kind::Openldap => "(objectClass=inetOrgPerson)",
    }
}

/// Whether the URL's host is this machine: StartTLS is the default everywhere else, so
/// that a bind password never crosses a network in clear unless the config says so.
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The limits of one source: 100 users or 20 % of the active ones, for each kind of loss.
fn limits(name: &str, l: &FileLimits) -> Result<Limits, ConfigError> {
    let one = |count: Option<u64>, percent: Option<f64>, key: &str| {
        let percent = percent.unwrap_or(20.0);
        if !(0.0..=100.0).contains(&percent) {
            return Err(bad(format!(
                "source '{name}': limits.{key}_percent {percent} is not between 0 and 100"
            )));
        }
        Ok(Limit {
            count: count.unwrap_or(100),
            percent,
        })
    };
    Ok(Limits {
        suspend: one(l.suspend, l.suspend_percent, "suspend")?,
        remove: one(l.remove, l.remove_percent, "remove")?,
        role_loss: one(l.role_loss, l.role_loss_percent, "role_loss")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<SyncSource>, ConfigError> {
        let f: super::super::FileConfig =
            toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        resolve(f.sync)
    }

    #[test]
    fn the_interface_example_reads_with_the_kind_defaults() -> Result<(), ConfigError> {
        let s = parse(
            r#"
            [[sync.source]]
            name = "corp"
            kind = "openldap"
            url = "ldap://127.0.0.1:3389"
            bind_dn = "cn=admin,dc=acme,dc=test"
            password_file = "/etc/usher/ldap.pass"
            base_dn = "ou=people,dc=acme,dc=test"
            filter = "(objectClass=inetOrgPerson)"

            [[sync.source]]
            name = "ad"
            kind = "ad"
            url = "ldap://dc1.acme.test"
            base_dn = "dc=acme,dc=test"
            [sync.source.limits]
            suspend = 5
            [[sync.source.group]]
            dn = "cn=Mail Admins,ou=groups,dc=acme,dc=test"
            role = "Administrator"
            "#,
        )?;
        let (corp, ad) = (&s[0], &s[1]);
        assert_eq!(corp.attributes.reference, "entryUUID");
        assert!(!corp.starttls, "loopback needs no StartTLS");
        assert_eq!(corp.missing, Leavers::Suspend);
        assert_eq!(ad.attributes.email, ["mail", "userPrincipalName"]);
        assert_eq!(
            ad.attributes.disabled.as_deref(),
            Some("userAccountControl")
        );
        assert!(ad.starttls, "a network host gets StartTLS by default");
        assert_eq!(ad.filter, "(&(objectCategory=person)(objectClass=user))");
        assert_eq!((ad.limits.suspend.count, ad.limits.remove.count), (5, 100));
        assert_eq!(ad.groups[0].role, "Administrator");
        Ok(())
    }

    #[test]
    fn bad_sources_are_named() {
        let e = parse(
            "[[sync.source]]\nname = \"a b\"\nkind = \"ad\"\nurl = \"ldap://x\"\nbase_dn = \"dc=x\"\n",
        );
        assert!(e.is_err_and(|e| e.to_string().contains("letters, digits")));
        let e = parse(
            "[[sync.source]]\nname = \"a\"\nkind = \"ad\"\nurl = \"http://x\"\nbase_dn = \"dc=x\"\n",
        );
        assert!(e.is_err_and(|e| e.to_string().contains("ldap://")));
        assert!(loopback("ldap://[::1]:389/") && loopback("ldaps://localhost"));
        assert!(!loopback("ldap://10.0.0.1:389"));
    }
}
