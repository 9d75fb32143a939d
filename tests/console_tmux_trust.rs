//! What makes a newcomer trust the console, tried as they would try it: the real binary
//! in tmux at 80x24, on SQLite and PostgreSQL. Long lists keep their rows in view, `g`
//! after `G` reaches the first row, Enter on a question says no, marks carry a bulk
//! suspension, and no log line lands on the screen while the database is away.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/pg_cluster.rs"]
mod pg_cluster;
#[path = "common/tmux.rs"]
mod tmux;

use common::TestDb;
use tmux::{Tmux, init, usher_cmd, wait_until};
use usher::store::Backend;

on_both_backends!(
    long_lists_keep_their_rows_in_view,
    enter_says_no_and_marks_carry_a_bulk_suspension,
);

fn cli(db: &TestDb, args: &[&str]) -> String {
    let out = usher_cmd(db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "usher {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(db: &TestDb, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&cli(db, args)).unwrap()
}

/// The addresses in the screen's rows, top to bottom (not the header's operator).
fn addresses(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().find(|w| w.contains('@')))
        .map(str::to_owned)
        .collect()
}

async fn long_lists_keep_their_rows_in_view(db: &TestDb) {
    init(db);
    let people: Vec<String> = (1..=28).map(|i| format!("p{i}@acme.test")).collect();
    cli(db, &["invite", &people.join(" "), "--guest", "--no-send"]);
    cli(db, &["db", "fake-users", "2000", "--domain", "acme.test"]);
    let Some(t) = Tmux::start(db, 80, 24) else {
        return;
    };
    t.open_console();
    t.wait_for("p28@acme.test");
    // The last row, then a search that leaves 11: all 11 are drawn, none blank above.
    t.keys(&["G"]);
    t.literal("/p1");
    let s = t.wait_for("11 shown");
    let shown = addresses(&s);
    assert_eq!(shown.len(), 11, "every match in view:\n{s}");
    assert!(shown.iter().all(|a| a.starts_with("p1")), "{s}");
    t.keys(&["Escape", "Escape"]);

    // Users, 2,001 of them, read by pages: G reaches the last, g the first at once.
    t.keys(&["2"]);
    t.wait_for("2,001 users");
    t.keys(&["G"]);
    let s = t.wait_for("user0002000@acme.test");
    // A row is indented; the header's "as admin@acme.test" is not a row.
    assert!(!addresses(&s).iter().any(|a| a == "admin@acme.test"), "{s}");
    t.keys(&["g"]);
    let s = t.wait_for("  admin@acme.test");
    assert_eq!(
        addresses(&s).first().map(String::as_str),
        Some("admin@acme.test"),
        "the first g shows the first row at the top:\n{s}"
    );
    // Page down across the window's page boundaries: each page moves by a screen.
    let mut firsts = Vec::new();
    for _ in 0..16 {
        t.keys(&["PageDown"]);
        std::thread::sleep(std::time::Duration::from_millis(150));
        firsts.push(addresses(&t.screen()).first().cloned().unwrap_or_default());
    }
    let numbers: Vec<i64> = firsts
        .iter()
        .filter_map(|a| a.strip_prefix("user")?.split('@').next()?.parse().ok())
        .collect();
    let steps: Vec<i64> = numbers.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        steps.iter().all(|s| *s == steps[0]) && steps[0] > 0,
        "even pages: {firsts:?}"
    );
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

async fn enter_says_no_and_marks_carry_a_bulk_suspension(db: &TestDb) {
    init(db);
    cli(db, &["invite", "ann@acme.test", "--guest", "--no-send"]);
    cli(db, &["db", "fake-users", "10", "--domain", "acme.test"]);
    let Some(t) = Tmux::start(db, 80, 24) else {
        return;
    };
    t.open_console();
    t.wait_for("ann@acme.test");
    // x then Enter: the question's default is no.
    t.keys(&["x"]);
    let s = t.wait_for("Confirm");
    assert!(s.contains("enter no (the default)"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("cancelled; nothing was changed");
    let list = json(db, &["invitations", "list", "--json"]);
    assert_eq!(list[0]["status"], "pending", "{list}");

    // Three users marked and suspended together, after a question naming them.
    t.keys(&["2"]);
    t.wait_for("user0000003@acme.test");
    t.keys(&["j", "Space", "Space", "Space"]);
    t.wait_for("3 marked");
    t.keys(&["z"]);
    let s = t.wait_for("Suspend 3 users");
    assert!(s.contains("user0000001@acme.test"), "{s}");
    assert!(s.contains("3 marked"), "the marks stay while asked:\n{s}");
    t.keys(&["y"]);
    t.wait_for("Suspended 3 users");
    let users = json(db, &["users", "list", "--json"]);
    let suspended: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "suspended")
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(
        suspended,
        [
            "user0000001@acme.test",
            "user0000002@acme.test",
            "user0000003@acme.test"
        ]
    );
    let s = t.wait_for("2 Users");
    assert!(
        !s.contains("marked"),
        "the marks go once it succeeded:\n{s}"
    );
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// PostgreSQL stops under the console while its mail sender runs: the sender's warnings
/// go to usher.log in the data directory, never onto the screen, and `^l` repaints.
#[test]
fn log_lines_never_land_on_the_screen() {
    let Some(cluster) = pg_cluster::Cluster::start() else {
        return;
    };
    let db = TestDb::at(cluster.url(), Backend::Postgres);
    init(&db);
    let Some(t) = Tmux::start(&db, 80, 24) else {
        return;
    };
    t.open_console();
    t.wait_for("0 pending");
    cluster.crash();
    t.wait_for("reconnecting");
    let log = db.dir.path().join("data/usher.log");
    wait_until("a warning in usher.log", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("WARN"))
    });
    let s = t.screen();
    assert!(!s.contains("WARN") && !s.contains("mail sender"), "{s}");
    cluster.up();
    let s = t.wait_for("reconnected to the database");
    assert!(!s.contains("WARN"), "{s}");
    t.keys(&["C-l"]);
    let s = t.wait_for("1 Invitations");
    assert!(!s.contains("WARN"), "{s}");
    t.keys(&["q"]);
    let s = t.wait_for("EXITED:0");
    assert!(s.contains("log line(s) written"), "{s}");
}
