//! The command line at its edges, as a sysadmin meets them: a pipe closed by `head`, a
//! config file or database URL mistyped, addresses separated as the help says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::io::Read;
use std::process::Stdio;

use cli::{init, ok, run, usher};
use common::TestDb;

/// Runs usher with its output going to a reader that takes `keep` bytes and goes away,
/// as `| head -c` does; returns the exit status and what usher wrote to stderr.
fn closed_after(db: &TestDb, args: &[&str], keep: usize) -> (Option<i32>, String) {
    let mut child = usher(db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = vec![0u8; keep];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_closed_pipe_ends_quietly_even_after_a_commit() {
    let db = TestDb::sqlite();
    init(&db, "5");
    ok(&db, &["db", "fake-users", "5000", "--domain", "acme.test"]);
    for args in [
        &["users", "list"][..],
        &["users", "list", "--json"],
        &["audit", "list"],
        &["invitations", "list"],
        &["completions", "bash"],
        &["completions", "zsh"],
    ] {
        let (code, err) = closed_after(&db, args, 10);
        assert!(
            matches!(code, Some(0 | 141)),
            "{args:?}: exit {code:?}, stderr {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("backtrace") && err.is_empty(),
            "{args:?}: {err}"
        );
    }
    // An import whose report cannot be read: it commits, then ends quietly.
    let file = db.dir.path().join("people.csv");
    let mut csv = String::from("email,first_name,last_name\n");
    for i in 0..3000 {
        csv.push_str(&format!("p{i}@acme.test,P,{i}\n"));
    }
    std::fs::write(&file, csv).unwrap();
    let f = file.to_str().unwrap();
    let (code, err) = closed_after(
        &db,
        &[
            "import",
            f,
            "--apply",
            "--yes",
            "--as-guests",
            "--no-send",
            "--json",
        ],
        1,
    );
    assert!(matches!(code, Some(0 | 141)), "exit {code:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let pending = ok(&db, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&pending).unwrap();
    assert_eq!(
        v["pending_invitations"], 3000,
        "the apply was committed: {v}"
    );
}

#[test]
fn a_missing_config_file_is_named_once_with_its_cause() {
    let db = TestDb::sqlite();
    let out = usher(&db)
        .env("USHER_CONFIG", "/nonexistent/usher.toml")
        .arg("status")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("/nonexistent/usher.toml"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_mistyped_database_says_what_to_check_and_creates_nothing() {
    let db = TestDb::sqlite();
    let missing = db.dir.path().join("no/such/dir/x.db");
    let url = format!("sqlite://{}", missing.display());
    let out = run(&db, &["--database-url", &url, "status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("there is no database file at"), "{err}");
    assert!(err.contains("usher init"), "{err}");
    assert!(!db.dir.path().join("no").exists(), "no directory was made");

    let closed = "postgres://postgres@127.0.0.1:1/usher";
    let out = run(&db, &["--database-url", closed, "status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("check the host and port"), "{err}");
    assert!(!err.contains(" at line "), "{err}");
}

#[test]
fn addresses_may_be_separated_by_spaces_commas_semicolons_or_lines() {
    let db = TestDb::sqlite();
    init(&db, "10");
    let out = ok(
        &db,
        &[
            "invite",
            "a@acme.test b@acme.test,c@acme.test; d@acme.test\ne@acme.test",
            "--no-send",
        ],
    );
    assert_eq!(out.matches("Invited ").count(), 5, "{out}");
}

#[test]
fn several_users_change_together_or_not_at_all() {
    let db = TestDb::sqlite();
    init(&db, "5");
    ok(&db, &["db", "fake-users", "3", "--domain", "acme.test"]);
    let out = ok(
        &db,
        &[
            "users",
            "suspend",
            "user0000001@acme.test",
            "user0000002@acme.test",
        ],
    );
    assert_eq!(out.matches("Suspended ").count(), 2, "{out}");
    // The administrator is active already: the whole command changes nobody.
    let refused = run(
        &db,
        &[
            "users",
            "reactivate",
            "user0000001@acme.test",
            "admin@acme.test",
        ],
    );
    assert!(!refused.status.success());
    let users: serde_json::Value =
        serde_json::from_str(&ok(&db, &["users", "list", "--json"])).unwrap();
    let suspended = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "suspended")
        .count();
    assert_eq!(suspended, 2, "{users}");
    let out = ok(
        &db,
        &[
            "users",
            "set-type",
            "user0000001@acme.test",
            "user0000003@acme.test",
            "professional",
        ],
    );
    assert_eq!(out.matches("Changed ").count(), 2, "{out}");
}

/// A refusal costs what a success does: no backtrace is resolved for an error that is
/// printed as one line, even with RUST_BACKTRACE set (it was 230 MB and 0.4 s).
#[test]
fn an_error_exit_is_as_cheap_as_a_success() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("skipped: /usr/bin/time is not installed");
        return;
    }
    let db = TestDb::sqlite();
    let bad = db.dir.path().join("bad.csv");
    std::fs::write(&bad, "email\nnot-an-address\n").unwrap();
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "PEAK_KB=%M"])
        .arg(env!("CARGO_BIN_EXE_usher"))
        .args(["import", "check", bad.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .env("USHER_DATA_DIR", db.dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("PEAK_KB="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(kb < 80_000, "an error exit peaked at {kb} KB:\n{err}");
    assert!(!err.contains("backtrace"), "{err}");
}

/// What a package installs beside the binary comes from the commands themselves: a
/// completion script per shell that the shell accepts, and a manual page per command.
#[test]
fn completions_and_manual_pages_come_from_the_commands() {
    let db = TestDb::sqlite();
    let bash = ok(&db, &["completions", "bash"]);
    for word in ["suspend", "--skip-errors", "--missing", "manpages"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    assert!(ok(&db, &["completions", "zsh"]).starts_with("#compdef usher"));
    assert!(ok(&db, &["completions", "fish"]).contains("complete -c usher"));
    // bash itself takes the script and binds it to usher.
    let script = db.dir.path().join("usher.bash");
    std::fs::write(&script, &bash).unwrap();
    let bound = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p usher", script.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bound.stdout).contains("_usher"),
        "{}",
        String::from_utf8_lossy(&bound.stderr)
    );
    let bad = run(&db, &["completions", "tcsh"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));

    let dir = db.dir.path().join("man");
    let said = ok(&db, &["manpages", dir.to_str().unwrap()]);
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        said.contains(&format!("wrote {} manual pages", pages.len())),
        "{said}"
    );
    for page in [
        "usher.1",
        "usher-import.1",
        "usher-users-suspend.1",
        "usher-completions.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "no {page} in {pages:?}");
    }
    let suspend = std::fs::read_to_string(dir.join("usher-users-suspend.1")).unwrap();
    assert!(
        suspend.starts_with(".ie") || suspend.starts_with(".TH"),
        "{suspend}"
    );
    assert!(suspend.contains(".TH usher-users-suspend 1"), "{suspend}");
    assert!(suspend.contains("all or none"), "its help is its page");
}
