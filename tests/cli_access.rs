//! The command-line twins of the Roles tab and the domains view, with the real binary:
//! roles, grants, mailboxes, domains and corporate users, and a limited operator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{init, json, ok, run, usher};
use common::TestDb;

on_both_backends!(
    roles_grants_and_mailboxes_by_cli_with_a_limited_operator,
    domains_and_corporate_users_by_cli,
    a_roles_workbook_by_cli,
);

/// The roles workbook's template, written from the account, read back, previewed and
/// applied: its example user is created with a personal mailbox and its roles.
async fn a_roles_workbook_by_cli(db: &TestDb) {
    init(db, "5");
    ok(
        db,
        &[
            "mailboxes",
            "create",
            "support@acme.test",
            "--name",
            "Support",
        ],
    );
    let file = db.dir.path().join("people.xlsx");
    let path = file.to_str().unwrap();
    let refused = run(db, &["import", "template", "--with-roles", "-o", path]);
    assert!(!refused.status.success());
    let out = ok(
        db,
        &[
            "import",
            "template",
            "--format",
            "xlsx",
            "--with-roles",
            "-o",
            path,
        ],
    );
    assert!(out.contains("1 mailbox sheet(s)"), "{out}");
    let preview = ok(db, &["import", "preview", path]);
    assert!(
        preview.contains("1  new users (created directly, active)"),
        "{preview}"
    );
    assert!(
        preview.contains("+ personal mailbox; + Professional; + Reader on support@acme.test"),
        "{preview}"
    );
    let applied = ok(db, &["import", "apply", path, "--yes"]);
    assert!(applied.contains(": created 1"), "{applied}");
    assert!(!applied.contains("invited"), "{applied}");
    let shown = ok(db, &["users", "show", "ann.lee@acme.test"]);
    assert!(
        shown.contains("Roles and permissions:\n  Professional\n  Owner on ann.lee@acme.test\n  Reader on support@acme.test"),
        "{shown}"
    );
    let boxes = json(db, &["mailboxes", "list", "--json"]);
    assert!(
        boxes
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["address"] == "ann.lee@acme.test" && m["kind"] == "personal"),
        "{boxes}"
    );
    let reader = json(db, &["roles", "show", "Reader", "--json"]);
    assert_eq!(reader["members"][0]["email"], "ann.lee@acme.test");
    assert_eq!(reader["members"][0]["mailbox"], "support@acme.test");
}

/// The CLI twins of the Roles tab, and an operator whose rights are limited: each refusal
/// says why, and leaves nothing changed.
async fn roles_grants_and_mailboxes_by_cli_with_a_limited_operator(db: &TestDb) {
    init(db, "5");
    let perms = json(db, &["permissions", "list", "--json"]);
    assert!(
        perms
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["permission"] == "users.invite"
                && p["scope"] == "account"
                && p["guest"] == false)
    );
    let out = ok(
        db,
        &[
            "roles",
            "create",
            "Inviters",
            "--permissions",
            "users.invite",
            "--description",
            "invite only",
        ],
    );
    assert!(
        out.contains("Created the account role 'Inviters': users.invite"),
        "{out}"
    );
    ok(db, &["db", "fake-users", "1", "--domain", "acme.test"]);
    let ivy = "user0000001@acme.test";
    // Made-up users are guests: a guest cannot invite.
    let refused = run(db, &["grant", ivy, "Inviters"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("a guest cannot hold users.invite"),
        "{err}"
    );
    ok(db, &["users", "set-type", ivy, "professional"]);
    ok(db, &["grant", ivy, "Inviters"]);
    ok(
        db,
        &[
            "mailboxes",
            "create",
            "support@acme.test",
            "--name",
            "Support",
        ],
    );
    ok(
        db,
        &["grant", ivy, "Editor", "--mailbox", "support@acme.test"],
    );
    let show = json(db, &["roles", "show", "inviters", "--json"]);
    assert_eq!(show["members"][0]["email"], ivy);
    assert_eq!(show["holders"], 1);

    // Ivy, as the operator, may invite and nothing else.
    let as_ivy = |args: &[&str]| {
        usher(db)
            .env("USHER_OPERATOR", ivy)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        as_ivy(&["invite", "new@acme.test", "--guest", "--no-send"])
            .status
            .success()
    );
    for args in [
        &["grant", ivy, "Administrator"][..],
        &["roles", "create", "Mine"][..],
        &["roles", "delete", "Inviters", "--yes"][..],
        &["mailboxes", "create", "sales@acme.test"][..],
    ] {
        let out = as_ivy(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success()
                && err.contains("may not")
                && err.contains("needs the permission"),
            "{args:?}: {err}"
        );
    }
    let roles = json(db, &["roles", "list", "--json"]);
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != "Mine")
    );

    // Deleting a role in use asks first.
    let refused = run(db, &["roles", "delete", "Inviters"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    ok(
        db,
        &[
            "roles",
            "edit",
            "Inviters",
            "--rename",
            "Senders",
            "--permissions",
            "users.invite,messages.send",
        ],
    );
    ok(db, &["revoke", ivy, "Senders"]);
    let out = ok(db, &["roles", "delete", "Senders"]);
    assert!(out.contains("revoked from 0"), "{out}");
}

/// `usher domains ...` and `usher users create`, as an admin types them.
async fn domains_and_corporate_users_by_cli(db: &TestDb) {
    init(db, "5");
    let out = ok(db, &["domains", "add", "branch.acme.test"]);
    assert!(
        out.contains("_usher-verification.branch.acme.test. IN TXT \"usher-verification="),
        "{out}"
    );
    let refused = run(
        db,
        &["users", "create", "bo@branch.acme.test", "--first", "Bo"],
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("branch.acme.test is not verified"),
        "{err}"
    );
    let refused = run(db, &["domains", "verify", "branch.acme.test", "--manual"]);
    assert!(!refused.status.success(), "--manual needs --reason");
    ok(
        db,
        &[
            "domains",
            "verify",
            "branch.acme.test",
            "--manual",
            "--reason",
            "internal zone",
        ],
    );
    ok(db, &["domains", "activate", "branch.acme.test"]);
    let list = json(db, &["domains", "list", "--json"]);
    let branch = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "branch.acme.test")
        .unwrap()
        .clone();
    assert_eq!(
        (branch["verified_how"].as_str(), branch["active"].as_bool()),
        (Some("manual"), Some(true))
    );
    let out = ok(
        db,
        &[
            "users",
            "create",
            "bo@branch.acme.test",
            "--first",
            "Bo",
            "--last",
            "Ek",
            "--personal-mailbox",
            "--timezone",
            "Europe/Oslo",
        ],
    );
    assert!(
        out.contains("Created bo@branch.acme.test (professional, active)"),
        "{out}"
    );
    let boxes = json(db, &["mailboxes", "list", "--json"]);
    assert_eq!(boxes[0]["owner"], "bo@branch.acme.test");
    ok(db, &["domains", "deactivate", "branch.acme.test"]);
    let refused = run(db, &["users", "create", "cy@branch.acme.test"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not active"));
}
