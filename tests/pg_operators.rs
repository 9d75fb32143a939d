//! The database confines operators (issue 25), on PostgreSQL: three real login roles, an
//! Administrator, a helpdesk operator who may only invite and a report reader, made by
//! `usher operators add`. Through `psql` with their own credentials each is refused by
//! the database what its permissions forbid (creating or changing users, granting roles,
//! reading password hashes or tokens, passing the licences, changing or deleting audit
//! rows); through usher each gets exactly its permissions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::process::{Command, Output};

use cli::{ok, usher};
use common::TestDb;

/// `psql` as `role`, on the test's schema, one statement; its output and whether it
/// succeeded.
fn psql(db: &TestDb, role: &str, sql: &str) -> (bool, String) {
    let admin = std::env::var("USHER_TEST_POSTGRES_URL").unwrap();
    let url = as_role(&admin, role);
    let schema = db.url.split("search_path]=").nth(1).unwrap();
    let out = Command::new("psql")
        .arg(&url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c"])
        .arg(format!("SET search_path = {schema}; {sql}"))
        .output()
        .expect("psql");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The admin URL with another role as its user.
fn as_role(admin: &str, role: &str) -> String {
    let (scheme, rest) = admin.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{role}@{host}")
}

/// `usher` connected as `role`, acting as whoever its link says.
fn usher_as(db: &TestDb, role: &str, args: &[&str]) -> Output {
    let admin = std::env::var("USHER_TEST_POSTGRES_URL").unwrap();
    let schema = db.url.split("search_path]=").nth(1).unwrap();
    let base = as_role(&admin, role);
    let sep = if base.contains('?') { '&' } else { '?' };
    usher(db)
        .env_remove("USHER_OPERATOR")
        .env(
            "USHER_DATABASE_URL",
            format!("{base}{sep}options[search_path]={schema}"),
        )
        .args(args)
        .output()
        .unwrap()
}

fn refused_by_db(db: &TestDb, role: &str, sql: &str, words: &[&str]) {
    let (ok, text) = psql(db, role, sql);
    assert!(
        !ok && words.iter().any(|w| text.contains(w)),
        "{role} was not refused `{sql}`: {text}"
    );
}

/// An UPDATE or DELETE that row-level security filters touches no row.
fn touches_nothing(db: &TestDb, role: &str, sql: &str) {
    let (ok, text) = psql(db, role, sql);
    assert!(
        !ok || text.contains("UPDATE 0") || text.contains("DELETE 0") || text.trim().is_empty(),
        "{role} changed something with `{sql}`: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_what_an_operators_permissions_forbid() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    cli::init(&db, "4");
    ok(
        &db,
        &[
            "roles",
            "create",
            "Helpdesk",
            "--permissions",
            "users.invite",
        ],
    );
    ok(
        &db,
        &[
            "roles",
            "create",
            "Readers",
            "--permissions",
            "reports.view",
        ],
    );
    for (who, role) in [
        ("ada@acme.test", "Administrator"),
        ("hal@acme.test", "Helpdesk"),
        ("rex@acme.test", "Readers"),
    ] {
        ok(&db, &["users", "create", who, "--first", "X"]);
        ok(&db, &["grant", who, role]);
    }
    let tag = usher::domain::token::random_hex(4).unwrap();
    let (ada, hal, rex) = (
        format!("ada_{tag}"),
        format!("hal_{tag}"),
        format!("rex_{tag}"),
    );
    let pw = db.dir.path().join("pw");
    std::fs::write(&pw, "a-long-operator-password\n").unwrap();
    let said = ok(
        &db,
        &[
            "operators",
            "add",
            "ada@acme.test",
            "--db-role",
            &ada,
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(said.contains("(password set)"), "{said}");
    ok(
        &db,
        &["operators", "add", "hal@acme.test", "--db-role", &hal],
    );
    ok(
        &db,
        &["operators", "add", "rex@acme.test", "--db-role", &rex],
    );
    let list = ok(&db, &["operators", "list"]);
    assert!(
        list.contains(&format!("db:{hal}")) && list.contains("hal@acme.test"),
        "{list}"
    );

    // Through psql, the helpdesk and the reader are refused every change but an invitation
    // (the helpdesk's), and nobody reads a secret or rewrites the audit log.
    for role in [&hal, &rex] {
        refused_by_db(
            &db,
            role,
            "INSERT INTO users (account_id, email, email_display, user_type, status, created_at, updated_at) \
             VALUES (1, 'z@acme.test', 'z@acme.test', 'professional', 'active', 0, 0)",
            &["row-level security"],
        );
        touches_nothing(&db, role, "UPDATE users SET status = 'suspended'");
        touches_nothing(&db, role, "DELETE FROM users");
        refused_by_db(
            &db,
            role,
            "INSERT INTO grants (account_id, user_id, permission, granted_by, granted_at) \
             VALUES (1, 1, 'roles.manage', 'me', 0)",
            &["row-level security"],
        );
    }
    for role in [&ada, &hal, &rex] {
        for secret in [
            "SELECT password_hash FROM users",
            "SELECT token_hash FROM invitations",
            "SELECT draft_token FROM invitations",
            "SELECT raw FROM outbox",
            "SELECT token_hash FROM password_resets",
        ] {
            refused_by_db(&db, role, secret, &["permission denied"]);
        }
        refused_by_db(
            &db,
            role,
            "UPDATE audit_log SET actor = 'x'",
            &["permission denied"],
        );
        refused_by_db(&db, role, "DELETE FROM audit_log", &["permission denied"]);
        refused_by_db(
            &db,
            role,
            "INSERT INTO audit_log (at, actor, action, target) \
             VALUES (0, 'admin@acme.test', 'user.remove', 'user:ann@acme.test')",
            &["row-level security"],
        );
    }
    let (_, status) = psql(
        &db,
        "postgres",
        "SELECT count(*) FROM users WHERE status = 'active'",
    );
    assert_eq!(
        status.trim().lines().last(),
        Some("4"),
        "nothing was changed: {status}"
    );

    // The Administrator may add users, but not past the licences (four, all taken).
    refused_by_db(
        &db,
        &ada,
        "INSERT INTO users (account_id, email, email_display, user_type, status, created_at, updated_at) \
         VALUES (1, 'z@acme.test', 'z@acme.test', 'professional', 'active', 0, 0)",
        &["no licence left"],
    );

    // Through usher, each has exactly its permissions.
    let out = usher_as(
        &db,
        &hal,
        &["invite", "new@acme.test", "--guest", "--no-send"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the console reads first, and the lists, read as an operator's own role.
    for args in [
        &["status"][..],
        &["invitations", "list"][..],
        &["users", "list"][..],
        &["outbox", "list"][..],
        &["roles", "list"][..],
        &["operators", "list"][..],
    ] {
        let out = usher_as(&db, &rex, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for args in [
        &["users", "suspend", "rex@acme.test"][..],
        &["grant", "hal@acme.test", "Administrator"][..],
    ] {
        let out = usher_as(&db, &hal, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("needs the permission"),
            "{args:?}: {err}"
        );
    }
    let out = usher_as(&db, &rex, &["audit", "list", "--limit", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = usher_as(
        &db,
        &rex,
        &["invite", "x@acme.test", "--guest", "--no-send"],
    );
    assert!(!out.status.success(), "the reader may not invite");
    let out = usher_as(&db, &ada, &["users", "suspend", "rex@acme.test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit = ok(&db, &["audit", "list", "--limit", "5"]);
    assert!(
        audit.contains(&format!("hal@acme.test [db:{hal}]")),
        "{audit}"
    );

    // Removing an operator drops its role.
    ok(&db, &["operators", "remove", &format!("db:{hal}")]);
    let (_, roles) = psql(
        &db,
        "postgres",
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{hal}'"),
    );
    assert_eq!(roles.trim().lines().last(), Some("0"), "{roles}");
    for role in [&ada, &rex] {
        ok(&db, &["operators", "remove", &format!("db:{role}")]);
    }
}
