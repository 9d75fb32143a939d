//! The console as a person uses it: the real binary in tmux, driven with send-keys and
//! read with capture-pane, on SQLite and PostgreSQL, at 80x24 and 200x60.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/pg_cluster.rs"]
mod pg_cluster;
#[path = "common/tmux.rs"]
mod tmux;

use std::process::Command;

use common::TestDb;
use tmux::{Tmux, assert_clean, init, spool_count, usher_cmd, wait_until};
use usher::store::Backend;

on_both_backends!(
    invite_by_keyboard_then_resend_and_quit_clean,
    sigterm_restores_the_terminal,
    import_a_file_by_keyboard,
    a_custom_role_by_keyboard,
    a_template_edited_by_keyboard,
);

async fn invite_by_keyboard_then_resend_and_quit_clean(db: &TestDb) {
    init(db);
    for (w, h) in [(80, 24), (200, 60)] {
        let Some(t) = Tmux::start(db, w, h) else {
            return;
        };
        let before = spool_count(db.dir.path());
        t.open_console();
        t.keys(&["n"]);
        t.wait_for("New invitation");
        let who = format!("newbie{w}@acme.test");
        t.literal(&who);
        t.keys(&["Tab"]);
        t.literal("New");
        t.keys(&["Tab"]);
        t.literal("Bie");
        t.keys(&["C-s"]);
        t.wait_for(&format!("Invited {who}"));
        t.keys(&["Escape"]);
        let s = t.wait_for(&format!("  {who}"));
        assert!(!s.contains("New invitation"), "the form closed:\n{s}");
        // The console runs the sender: the invitation leaves without another command.
        wait_until("the invitation in the spool", || {
            spool_count(db.dir.path()) == before + 1
        });
        t.wait_for(" sent");
        // The new invitation is the newest, so the first row: resend it.
        t.keys(&["g", "r"]);
        t.wait_for("Resent 1 invitation");
        wait_until("the resent invitation in the spool", || {
            spool_count(db.dir.path()) == before + 2
        });
        // Another admin invites from the command line: it shows up within a few seconds.
        let mut other = Command::new(env!("CARGO_BIN_EXE_usher"));
        other
            .env("USHER_DATA_DIR", db.dir.path().join("data"))
            .env("HOME", db.dir.path());
        if db.backend == Backend::Postgres {
            other.env("USHER_DATABASE_URL", &db.url);
        }
        let colleague = format!("colleague{w}@acme.test");
        assert!(
            other
                .args(["invite", &colleague, "--guest", "--no-send"])
                .output()
                .unwrap()
                .status
                .success()
        );
        t.wait_for(&format!("  {colleague}"));
        // ^Z suspends to the shell (which then runs the `echo`, with 148 for a stopped
        // job); fg brings the console back, and its own exit status is read after it.
        t.keys(&["C-z"]);
        t.wait_for("EXITED:148");
        assert!(!t.alternate(), "suspended: the shell has the screen");
        t.literal("clear; fg");
        t.keys(&["Enter"]);
        t.wait_for("1 Invitations");
        t.keys(&["q"]);
        wait_until("the console to leave the alternate screen", || {
            !t.alternate()
        });
        t.literal("echo \"QU\"\"IT:$?\"");
        t.keys(&["Enter"]);
        t.wait_for("QUIT:0");
        assert_clean(&t);
    }
}

async fn sigterm_restores_the_terminal(db: &TestDb) {
    init(db);
    let Some(t) = Tmux::start(db, 100, 30) else {
        return;
    };
    t.open_console();
    let shell = t.tmux(&["display", "-p", "-t", &t.session, "#{pane_pid}"]);
    let child = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&child.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "usher runs under the shell");
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    t.wait_for("EXITED:0");
    assert_clean(&t);
}

async fn import_a_file_by_keyboard(db: &TestDb) {
    init(db);
    let file = db.dir.path().join("staff.csv");
    std::fs::write(&file, "Primary email address,FirstName,LastName\nadmin@acme.test,,\nkim@acme.test,Kim,Lee\nlou@acme.test,Lou,Ma\n").unwrap();
    let Some(t) = Tmux::start(db, 100, 30) else {
        return;
    };
    t.open_console();
    t.keys(&["3"]);
    t.wait_for("o open a file");
    t.keys(&["o"]);
    t.wait_for("import file:");
    // Tab completes the directory's one CSV from its first letters.
    t.literal(&format!("{}/sta", db.dir.path().display()));
    t.keys(&["Tab"]);
    t.wait_for("staff.csv");
    t.keys(&["Enter"]);
    t.wait_for("new: will be invited");
    t.keys(&["a"]);
    t.wait_for("Confirm");
    t.keys(&["y"]);
    t.wait_for("Import 1 applied: invited 2");
    t.keys(&["1"]);
    t.wait_for("  kim@acme.test");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    let out = usher_cmd(db)
        .args(["import", "history", "--json"])
        .output()
        .unwrap();
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(history[0]["file_name"], "staff.csv");
}

/// The CLI on the same database, for reading back what the console did.
fn cli(db: &TestDb, args: &[&str]) -> String {
    let out = usher_cmd(db).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn a_custom_role_by_keyboard(db: &TestDb) {
    init(db);
    let Some(t) = Tmux::start(db, 100, 30) else {
        return;
    };
    t.open_console();
    t.keys(&["4"]);
    t.wait_for("User manager");
    t.keys(&["n"]);
    t.wait_for("New custom role");
    t.literal("Auditor");
    // Past the description and the scope, to the search; then to the list.
    t.keys(&["Tab", "Tab", "Tab"]);
    t.literal("report");
    t.keys(&["Tab", "Space"]);
    t.wait_for("[x] reports.view");
    t.keys(&["C-s"]);
    t.wait_for("Saved the role Auditor (1 permissions)");
    // Grant it to the admin from the Users tab.
    t.keys(&["2"]);
    t.wait_for("  admin@acme.test");
    t.keys(&["+"]);
    t.wait_for("grant to admin@acme.test:");
    t.literal("Audi");
    t.keys(&["Tab", "Enter"]);
    t.wait_for("Granted Auditor");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    let shown = cli(db, &["roles", "show", "Auditor"]);
    assert!(shown.contains("reports.view"), "{shown}");
    assert!(shown.contains("admin@acme.test"), "{shown}");
}

/// The real binary: T opens the editor, the subject is replaced and saved, the preview
/// followed; then `usher templates show` and a report written from the command line.
async fn a_template_edited_by_keyboard(db: &TestDb) {
    init(db);
    let Some(t) = Tmux::start(db, 120, 36) else {
        return;
    };
    t.open_console();
    t.keys(&["T"]);
    t.wait_for("┌ Preview");
    // To the subject, to its end, and away with it.
    t.keys(&["BTab", "End"]);
    for _ in 0..80 {
        t.keys(&["BSpace"]);
    }
    t.literal("Hello from {{ org }}");
    // The preview names the account's own organisation.
    t.wait_for("Subject: Hello from Acme");
    t.keys(&["C-s"]);
    t.wait_for("saved the invitation template");
    t.keys(&["Escape"]);
    let report = db.dir.path().join("from-console.csv");
    t.keys(&[":"]);
    t.literal(&format!("report users csv {}", report.display()));
    t.keys(&["Enter"]);
    t.wait_for("wrote the users report");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    let shown = cli(db, &["templates", "show", "invitation"]);
    assert!(shown.contains("subject: Hello from {{ org }}"), "{shown}");
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .starts_with("id,email,")
    );
}

/// PostgreSQL crashes under the running console and comes back: the header says
/// "reconnecting" within seconds, and the console finds the database again by itself.
#[test]
fn the_database_crashing_shows_reconnecting_then_recovers() {
    let Some(cluster) = pg_cluster::Cluster::start() else {
        return;
    };
    let db = TestDb::at(cluster.url(), Backend::Postgres);
    init(&db);
    let Some(t) = Tmux::start(&db, 120, 30) else {
        return;
    };
    t.open_console();
    t.wait_for("0 pending");
    cluster.crash();
    let s = t.wait_for("reconnecting to the database");
    assert!(s.contains("lost the connection to the database"), "{s}");
    cluster.up();
    let s = t.wait_for("reconnected to the database");
    assert!(!s.contains("reconnecting"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}
