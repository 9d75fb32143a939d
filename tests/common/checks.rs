//! What the fault and concurrency tests share, through the command line: user lists to
//! import, what the database holds, and that the audit log agrees with it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::cli;
use crate::common::TestDb;

/// A CSV of new users u{from}..u{to}@acme.test, with names.
pub fn users_csv(dir: &Path, name: &str, range: std::ops::Range<usize>) -> PathBuf {
    let mut text = String::from("Email,First Name,Last Name\n");
    for i in range {
        text.push_str(&format!("u{i}@acme.test,First{i},Last{i}\n"));
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `usher import FILE --apply --yes --no-send`, with `--expect DIGEST` when given.
pub fn apply_args(file: &Path, expect: Option<&str>) -> Vec<String> {
    let mut a = vec![
        "import".to_owned(),
        file.display().to_string(),
        "--apply".into(),
        "--yes".into(),
        "--no-send".into(),
    ];
    if let Some(d) = expect {
        a.extend(["--expect".into(), d.to_owned()]);
    }
    a
}

/// Applies `file`, queueing its mail, and asserts that it went through.
pub fn apply(db: &TestDb, file: &Path, expect: Option<&str>) -> String {
    let args = apply_args(file, expect);
    cli::ok(db, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What the database holds, as the command line reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub users: i64,
    pub pending: i64,
    pub queued: i64,
    pub batches: usize,
    pub audit_rows: usize,
}

pub fn snapshot(db: &TestDb) -> Snapshot {
    let s = cli::json(db, &["status", "--json"]);
    let n = |k: &str| s[k].as_i64().unwrap_or_else(|| panic!("status {k}: {s}"));
    Snapshot {
        users: n("users"),
        pending: n("pending_invitations"),
        queued: n("outbox_queued"),
        batches: cli::json(db, &["import", "history", "--json"])
            .as_array()
            .unwrap()
            .len(),
        audit_rows: audit(db).len(),
    }
}

pub fn audit(db: &TestDb) -> Vec<serde_json::Value> {
    cli::json(db, &["audit", "list", "--limit", "1000000", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

/// The audit chain verifies, and its entries account for every invitation: one
/// `invitation.create` each, or the `invited` count of the import that sent it.
pub fn consistent(db: &TestDb) {
    let v = cli::run(db, &["audit", "verify", "--json"]);
    assert!(
        v.status.success(),
        "audit verify: {}",
        String::from_utf8_lossy(&v.stdout)
    );
    let invited: i64 = audit(db)
        .iter()
        .filter(|e| e["action"] == "import.apply")
        .map(|e| {
            let d: serde_json::Value =
                serde_json::from_str(e["details"].as_str().unwrap()).unwrap();
            d["outcome"]["invited"].as_i64().unwrap()
        })
        .sum::<i64>()
        + audit(db)
            .iter()
            .filter(|e| e["action"] == "invitation.create")
            .count() as i64;
    let invitations = cli::json(db, &["invitations", "list", "--limit", "0", "--json"]);
    assert_eq!(
        invitations.as_array().unwrap().len() as i64,
        invited,
        "the audit log's imports account for every invitation"
    );
}
