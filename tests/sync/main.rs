//! Directory sync against a real OpenLDAP server from Debian's packages, in the two
//! shapes sysadmins meet: a plain inetOrgPerson tree, and AD-like entries (msuser.schema,
//! binary objectGUID, userAccountControl). Each case runs on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/cli.rs"]
mod cli;
#[path = "../common/mod.rs"]
mod common;
#[path = "../common/slapd.rs"]
mod slapd;

mod ad;
mod command_line;
mod groups;
mod limits;
mod plain;
mod schedule;
mod tls;

use usher::Usher;
use usher::config::{Config, Overrides, SyncSource};
use usher::service::{NewCorporateUser, RunOptions, SyncReport, Target};
use usher::store::User;

/// The source a TOML table describes, as the config resolves it.
fn source(toml: &str) -> SyncSource {
    let c = Config::from_toml(
        toml,
        &Overrides::default(),
        &[("USHER_DATA_DIR", "/tmp/usher-sync-test")],
    )
    .unwrap();
    c.sync.into_iter().next().unwrap()
}

/// A directory of `shape` holding `entries` (LDIF), in a temporary directory the caller
/// keeps; None (the test skips) without slapd.
fn directory(shape: slapd::Shape, entries: &[String]) -> Option<(tempfile::TempDir, slapd::Slapd)> {
    if !slapd::available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let ldap = slapd::Slapd::start(dir.path(), shape);
    ldap.add(&entries.concat());
    Some((dir, ldap))
}

/// Limits wide open, for the cases that are not about them.
const NO_LIMITS: &str = "[sync.source.limits]\nsuspend_percent = 100.0\nremove_percent = 100.0\n\
                         role_loss_percent = 100.0\n";

async fn preview(u: &Usher, s: &SyncSource) -> SyncReport {
    u.sync_preview(s, &RunOptions::default()).await.unwrap()
}

async fn apply(u: &Usher, s: &SyncSource) -> SyncReport {
    u.sync_apply(s, &RunOptions::default()).await.unwrap()
}

/// Options that approve a held run.
fn approving(run: i64) -> RunOptions {
    RunOptions {
        approve: Some(run),
        ..RunOptions::default()
    }
}

/// A bucket's count in a preview.
fn count(r: &SyncReport, bucket: &str) -> usize {
    let plan = r.plan.as_ref().unwrap();
    let v = serde_json::to_value(&plan.counts).unwrap();
    v[bucket].as_u64().unwrap() as usize
}

/// The changes a preview lists for an address.
fn changes_of(r: &SyncReport, email: &str) -> Vec<String> {
    r.plan
        .as_ref()
        .unwrap()
        .rows()
        .find(|row| row.email == email)
        .map(|row| row.changes)
        .unwrap_or_default()
}

async fn corporate(u: &Usher, email: &str, first: &str, last: &str) -> User {
    u.create_user(&NewCorporateUser {
        email: email.into(),
        first_name: first.into(),
        last_name: last.into(),
        user_type: usher::domain::UserType::Professional,
        personal_mailbox: false,
        timezone: String::new(),
        phone: String::new(),
    })
    .await
    .unwrap()
}

async fn user(u: &Usher, email: &str) -> User {
    u.user_detail(&Target::Email(email.into()))
        .await
        .unwrap()
        .user
}
