//! Postfix's lookups with `postmap -q` on the tables usher writes, and the PostgreSQL
//! role they use, confined to the views.

use std::path::Path;
use std::process::Command;

use usher::store::Backend;

use crate::common::TestDb;
use crate::{cli, drop_role, mail_role};

crate::on_both_backends!(postfix_looks_up_users_shared_mailboxes_domains_and_senders);

/// The mail server's role reads the views and nothing else: no table, no hash of a
/// user who may not log in.
async fn views_alone(db: &TestDb, role: &str) {
    if db.backend != Backend::Postgres {
        return;
    }
    use sqlx::Connection;
    let url = db.url.replacen("://postgres@", &format!("://{role}@"), 1);
    assert_ne!(url, db.url, "the test URL names the postgres user");
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    for view in usher::mailserver::VIEWS {
        let sql = format!("SELECT COUNT(*) FROM {view}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(n > 0, "{view}");
    }
    for table in [
        "users",
        "invitations",
        "audit_log",
        "grants",
        "registrations",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let e = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut c)
            .await;
        assert!(
            e.unwrap_err().to_string().contains("permission denied"),
            "{table}"
        );
    }
    for write in ["DELETE FROM users", "UPDATE domains SET active = TRUE"] {
        let e = sqlx::query(write).execute(&mut c).await;
        assert!(
            e.unwrap_err().to_string().contains("permission denied"),
            "{write}"
        );
    }
    let e = sqlx::query("DELETE FROM usher_mail_logins_v1")
        .execute(&mut c)
        .await;
    assert!(
        e.is_err(),
        "a view of the contract cannot be written through"
    );
    let hashes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM usher_mail_logins_v1 WHERE password IS NOT NULL AND NOT may_login",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(hashes, 0);
}

/// `postmap -q KEY TYPE:FILE`: the value, or None when the table has no such key.
fn postmap(key: &str, table: &str) -> Option<String> {
    let out = Command::new("postmap")
        .args(["-q", key, table])
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        Some(1) => None,
        _ => panic!(
            "postmap -q {key} {table}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn postmap_available() -> bool {
    let ok = Command::new("postconf").arg("-m").output().is_ok_and(|o| {
        let maps = String::from_utf8_lossy(&o.stdout).to_string();
        maps.contains("sqlite") && maps.contains("pgsql")
    });
    if !ok {
        eprintln!(
            "skipped: postfix with sqlite and pgsql maps is not installed (apt-get install postfix postfix-sqlite postfix-pgsql)"
        );
    }
    ok
}

/// The tables main.cf names, by parameter, without `proxy:` (postmap reads them itself).
fn tables(dir: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(dir.join("main.cf"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.trim_start_matches("proxy:").to_owned()))
        .collect()
}

async fn postfix_looks_up_users_shared_mailboxes_domains_and_senders(db: &TestDb) {
    if !postmap_available() {
        return;
    }
    cli::init(db, "10");
    for args in [
        &["users", "create", "bob@acme.test", "--first", "Bob"][..],
        &["users", "create", "cy@acme.test", "--first", "Cy"],
        &["mailboxes", "create", "sales@acme.test", "--name", "Sales"],
        &[
            "roles",
            "create",
            "Sender",
            "--scope",
            "mailbox",
            "--permissions",
            "mailbox.send_as",
        ],
        &[
            "grant",
            "bob@acme.test",
            "Sender",
            "--mailbox",
            "sales@acme.test",
        ],
        &[
            "grant",
            "cy@acme.test",
            "Editor",
            "--mailbox",
            "sales@acme.test",
        ],
        &["domains", "add", "old.test"],
        &[
            "domains", "verify", "old.test", "--manual", "--reason", "ours",
        ],
        &["domains", "activate", "old.test"],
        &["users", "create", "dee@old.test", "--first", "Dee"],
        &["domains", "deactivate", "old.test"],
    ] {
        cli::ok(db, args);
    }
    let mut c = cli::usher(db);
    let role = mail_role(db);
    let dir = db.dir.path().join("postfix");
    let out = c
        .args([
            "mailserver",
            "config",
            "postfix",
            "--role",
            &role,
            "--dir",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = tables(&dir);
    let domains = &t["virtual_mailbox_domains"];
    let mailboxes = &t["virtual_mailbox_maps"];
    let aliases = &t["virtual_alias_maps"];
    let senders = &t["smtpd_sender_login_maps"];

    assert_eq!(postmap("acme.test", domains).as_deref(), Some("acme.test"));
    assert_eq!(
        postmap("old.test", domains),
        None,
        "an inactive domain takes no mail"
    );
    assert_eq!(postmap("nowhere.test", domains), None);
    assert_eq!(
        postmap("bob@acme.test", mailboxes).as_deref(),
        Some("acme.test/bob/")
    );
    assert_eq!(
        postmap("BOB@acme.test", mailboxes).as_deref(),
        Some("acme.test/bob/"),
        "keys fold"
    );
    assert_eq!(
        postmap("sales@acme.test", mailboxes).as_deref(),
        Some("acme.test/sales/")
    );
    assert_eq!(
        postmap("dee@old.test", mailboxes),
        None,
        "a user on an inactive domain"
    );
    assert_eq!(postmap("ghost@acme.test", mailboxes), None);
    assert_eq!(
        postmap("sales@acme.test", aliases).as_deref(),
        Some("sales@acme.test")
    );
    assert_eq!(
        postmap("bob@acme.test", senders).as_deref(),
        Some("bob@acme.test")
    );
    assert_eq!(
        postmap("sales@acme.test", senders).as_deref(),
        Some("bob@acme.test"),
        "send-as through a custom role; the Editor may not"
    );
    cli::ok(
        db,
        &[
            "grant",
            "cy@acme.test",
            "Owner",
            "--mailbox",
            "sales@acme.test",
        ],
    );
    let mut both: Vec<String> = postmap("sales@acme.test", senders)
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    both.sort();
    assert_eq!(
        both,
        ["bob@acme.test", "cy@acme.test"],
        "and through the system role Owner"
    );
    cli::ok(
        db,
        &[
            "revoke",
            "bob@acme.test",
            "Sender",
            "--mailbox",
            "sales@acme.test",
        ],
    );
    assert_eq!(
        postmap("sales@acme.test", senders).as_deref(),
        Some("cy@acme.test")
    );
    views_alone(db, &role).await;
    drop_role(db, &role).await;
}
