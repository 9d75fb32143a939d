//! A file with faulty rows applied on purpose (`--skip-errors`): the good rows go in, the
//! faulty ones are left out, said at every step, and written to a CSV to fix and import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{init, json, ok, run};
use common::TestDb;

on_both_backends!(the_good_rows_go_in_and_the_faulty_come_back_as_a_file);

async fn the_good_rows_go_in_and_the_faulty_come_back_as_a_file(db: &TestDb) {
    init(db, "500");
    // An HR export: 200 people, a broken address, one repeated, and the TOTAL line.
    let file = db.dir.path().join("hr.csv");
    let mut csv = String::from("Employee ID,First Name,Last Name,Email\n");
    for i in 0..200 {
        csv.push_str(&format!("E{i:04},P{i},Person,p{i}@acme.test\n"));
    }
    csv.push_str("E9001,Bad,Address,not-an-address\n");
    csv.push_str("E9002,Again,Twice,p7@acme.test\n");
    csv.push_str("TOTAL,,,202\n");
    std::fs::write(&file, &csv).unwrap();
    let f = file.to_str().unwrap();

    // Without the choice, one faulty row stops everything, and says what would not.
    let refused = run(db, &["import", f, "--apply", "--yes", "--no-send"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("3 row(s) cannot be imported") && said.contains("--skip-errors"),
        "{said}"
    );
    assert_eq!(json(db, &["status", "--json"])["pending_invitations"], 0);

    // The preview with the choice says what will be left out, and does not fail.
    let preview = run(db, &["import", f, "--skip-errors"]);
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    assert!(String::from_utf8_lossy(&preview.stderr).contains("3 faulty row(s) will be left out"));

    let out = json(
        db,
        &[
            "import",
            f,
            "--apply",
            "--yes",
            "--no-send",
            "--skip-errors",
            "--json",
        ],
    );
    assert_eq!(out["invited"], 200, "{out}");
    assert_eq!(out["left_out"], 3, "{out}");
    let faulty_path = db.dir.path().join("hr.faulty.csv");
    assert_eq!(out["faulty_rows"]["count"], 3, "{out}");
    assert_eq!(out["faulty_rows"]["file"], faulty_path.to_str().unwrap());
    let faulty = std::fs::read_to_string(&faulty_path).unwrap();
    let lines: Vec<&str> = faulty.lines().collect();
    assert_eq!(
        lines[0],
        "Employee ID,First Name,Last Name,Email,usher_error"
    );
    assert_eq!(lines.len(), 4, "{faulty}");
    assert!(
        lines[1].starts_with("E9001,Bad,Address,not-an-address,") && lines[1].contains("row 202")
    );
    assert!(lines[2].contains("appears again"), "{faulty}");
    assert!(lines[3].starts_with("TOTAL"), "{faulty}");
    // The history and the audit log say it was on purpose.
    let audit: serde_json::Value =
        serde_json::from_str(&ok(db, &["audit", "list", "--json"])).unwrap();
    let apply = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "import.apply")
        .unwrap();
    assert!(
        apply["details"]
            .as_str()
            .unwrap()
            .contains("\"skip_errors\":true"),
        "{apply}"
    );

    // Fixed and imported again: only the fixed row is new.
    let fixed = faulty.replace("not-an-address", "bad.address@acme.test");
    let fixed: String = fixed
        .lines()
        .take(2)
        .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
        .collect();
    let again = db.dir.path().join("fixed.csv");
    std::fs::write(&again, fixed).unwrap();
    let out = json(
        db,
        &[
            "import",
            again.to_str().unwrap(),
            "--apply",
            "--yes",
            "--no-send",
            "--json",
        ],
    );
    assert_eq!(out["invited"], 1, "{out}");
}
