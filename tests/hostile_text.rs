//! Names carrying terminal escapes, written straight into the shared database (by another
//! tool, say: usher's own validation refuses them), never reach stdout or a log raw
//! (issue 8). Each command that shows them prints them escaped, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use sqlx::Connection;
use usher::store::Backend;

use common::TestDb;

on_both_backends!(hostile_names_reach_stdout_and_logs_escaped);

/// Clears the screen, retitles the window, rings, reverses the text, and a C1 CSI.
const EVIL: &str = "Eve\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp.exe\u{9b}31m";

/// A raw character a terminal would act on (line ends and tabs are how output is laid out).
fn acts_on_terminal(c: char) -> bool {
    c != '\n' && c != '\t' && usher::domain::sanitize::is_unsafe_char(c)
}

async fn write_hostile_names(db: &TestDb) {
    let statements = [
        "UPDATE users SET first_name = $1, last_name = $1, display_name = $1",
        "UPDATE invitations SET first_name = $1, last_name = $1",
        "UPDATE outbox SET last_error = $1",
    ];
    match db.backend {
        Backend::Sqlite => {
            let path = db.dir.path().join("data/usher.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            for s in statements {
                sqlx::query(s).bind(EVIL).execute(&mut c).await.unwrap();
            }
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            for s in statements {
                sqlx::query(s).bind(EVIL).execute(&mut c).await.unwrap();
            }
        }
    }
}

async fn hostile_names_reach_stdout_and_logs_escaped(db: &TestDb) {
    cli::init(db, "5");
    cli::ok(db, &["invite", "ann@acme.test", "--no-send"]);
    write_hostile_names(db).await;
    let commands: [&[&str]; 9] = [
        &["users", "list"],
        &["users", "list", "--json"],
        &["invitations", "list", "--json"],
        &["audit", "list", "--json"],
        &["users", "show", "admin@acme.test"],
        &["invitations", "list"],
        &["outbox", "list"],
        &["audit", "list"],
        &["status"],
    ];
    let mut shown_escaped = 0;
    for args in commands {
        let out = cli::usher(db)
            .args(args)
            .env("USHER_LOG", "debug")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            if let Some(c) = text.chars().find(|c| acts_on_terminal(*c)) {
                panic!("usher {args:?} wrote {c:?} raw to {name}:\n{text:?}");
            }
            shown_escaped += text.matches("Eve\\u{1b}[2J").count();
        }
    }
    assert!(shown_escaped >= 3, "the names were shown, escaped");
}
