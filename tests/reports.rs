//! The users and invitations reports (issue 7), by the real binary on both backends, read
//! back with Python's csv module and openpyxl: every field, roles and invitation status,
//! hostile names defused, and the report mailed as an attachment to a real SMTP server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::path::Path;
use std::process::Command;

use cli::{init, ok, received, usher, with_sink};
use common::TestDb;
use common::smtp::{SmtpSink, python};

on_both_backends!(
    reports_have_every_field_and_no_formula,
    a_report_is_mailed_as_an_attachment,
);

/// The report as Python's csv or openpyxl reads it: rows of cells and their data types.
fn read(path: &Path) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let py = python();
    let has = |m: &str| {
        Command::new(&py)
            .args(["-c", &format!("import {m}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has("openpyxl") {
        let _ = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "openpyxl"])
            .status();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/read_report.py");
    let out = Command::new(&py).arg(script).arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let grid = |k: &str| -> Vec<Vec<String>> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .collect()
    };
    (grid("rows"), grid("types"))
}

fn column<'a>(rows: &'a [Vec<String>], name: &str, email: &str) -> &'a str {
    let at = rows[0].iter().position(|h| h == name).unwrap();
    let by = rows[0].iter().position(|h| h == "email").unwrap();
    rows.iter()
        .find(|r| r[by].trim_start_matches('\'') == email)
        .map(|r| r[at].as_str())
        .unwrap_or_else(|| panic!("no row for {email}"))
}

fn hostile_account(db: &TestDb) {
    init(db, "10");
    ok(
        db,
        &[
            "invite",
            "eve@acme.test",
            "--first",
            "=HYPERLINK(\"http://evil.test\",\"x\")",
            "--last=-2+3",
        ],
    );
    ok(
        db,
        &["grant", "eve@acme.test", "User manager", "--invitation"],
    );
    ok(
        db,
        &[
            "invite",
            "gus@acme.test",
            "--first",
            "@SUM(A1)",
            "--last",
            "+1",
            "--guest",
        ],
    );
    ok(db, &["invitations", "revoke", "gus@acme.test"]);
    ok(
        db,
        &[
            "users",
            "create",
            "carl@acme.test",
            "--first",
            "Carl",
            "--last",
            "Berg",
            "--personal-mailbox",
        ],
    );
    ok(db, &["grant", "carl@acme.test", "users.invite"]);
}

async fn reports_have_every_field_and_no_formula(db: &TestDb) {
    hostile_account(db);
    let dir = db.dir.path();
    for format in ["csv", "xlsx"] {
        let users = dir.join(format!("users.{format}"));
        let said = ok(
            db,
            &[
                "report",
                "users",
                "--format",
                format,
                "-o",
                users.to_str().unwrap(),
            ],
        );
        assert!(said.contains("wrote 2 row(s)"), "{said}");
        let (rows, types) = read(&users);
        assert_eq!(rows[0], usher::report::USER_COLUMNS);
        assert_eq!(rows.len(), 3, "header, admin, carl: {rows:?}");
        assert_eq!(
            column(&rows, "account_roles", "admin@acme.test"),
            "Administrator"
        );
        assert_eq!(
            column(&rows, "account_permissions", "carl@acme.test"),
            "users.invite"
        );
        assert_eq!(
            column(&rows, "mailbox_grants", "carl@acme.test"),
            "Owner on carl@acme.test"
        );
        assert_eq!(column(&rows, "status", "carl@acme.test"), "active");

        let invitations = dir.join(format!("invitations.{format}"));
        ok(
            db,
            &[
                "report",
                "invitations",
                "--format",
                format,
                "-o",
                invitations.to_str().unwrap(),
            ],
        );
        let (rows, itypes) = read(&invitations);
        assert_eq!(rows[0], usher::report::INVITATION_COLUMNS);
        assert_eq!(column(&rows, "status", "gus@acme.test"), "revoked");
        assert_eq!(column(&rows, "status", "eve@acme.test"), "pending");
        assert_eq!(
            column(&rows, "promised_roles", "eve@acme.test"),
            "User manager"
        );
        assert_eq!(column(&rows, "inviter", "eve@acme.test"), "admin@acme.test");
        let first = column(&rows, "first_name", "eve@acme.test");
        let last = column(&rows, "last_name", "gus@acme.test");
        if format == "csv" {
            // Shown as text by every spreadsheet: a leading quote.
            assert_eq!(first, "'=HYPERLINK(\"http://evil.test\",\"x\")");
            assert_eq!(last, "'+1");
            assert_eq!(column(&rows, "first_name", "gus@acme.test"), "'@SUM(A1)");
        } else {
            // Strings, never formulas: openpyxl reads no cell as a formula ("f"), and
            // every filled cell as a string ("s"); empty ones are "n".
            assert_eq!(first, "=HYPERLINK(\"http://evil.test\",\"x\")");
            assert!(!types.iter().chain(&itypes).flatten().any(|t| t == "f"));
            for (row, ty) in rows.iter().zip(&itypes) {
                for (cell, t) in row.iter().zip(ty) {
                    assert!(cell.is_empty() || t == "s", "{cell:?} is {t}");
                }
            }
        }
    }
    // No file is left half-written when the report is refused.
    let out = usher(db)
        .env("USHER_OPERATOR", "carl@acme.test")
        .args([
            "report",
            "users",
            "-o",
            dir.join("denied.csv").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reports.view"));
    assert!(!dir.join("denied.csv").exists());
}

async fn a_report_is_mailed_as_an_attachment(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    hostile_account(db);
    let out = with_sink(db, &sink)
        .args([
            "report",
            "users",
            "--format",
            "xlsx",
            "--email",
            "auditor@acme.test",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (to, raw) = received(&sink, "users report");
    assert_eq!(to, ["auditor@acme.test"]);
    assert!(raw.contains("filename=\"usher-users.xlsx\""), "{raw}");
    assert!(raw.contains("spreadsheetml"), "{raw}");
}
