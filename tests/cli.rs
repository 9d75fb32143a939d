//! The real binary, as a sysadmin runs it: no config, SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::path::Path;

use cli::{init, json, ok, run, usher};
use common::TestDb;
use common::smtp::SmtpSink;

on_both_backends!(
    init_then_invite_leaves_an_eml_with_the_right_link_and_expiry,
    bad_input_is_refused_and_nothing_is_written,
    twenty_processes_race_for_the_last_seat,
    smtp_rejection_shows_in_the_list_with_the_reply,
    list_commands_print_json_with_stable_fields,
    relay_down_then_up_every_invitation_arrives_once,
);

fn spool_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("data/spool"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn init_then_invite_leaves_an_eml_with_the_right_link_and_expiry(db: &TestDb) {
    init(db, "5");
    let out = ok(
        db,
        &["invite", "ann@acme.test", "--first", "Ann", "--last", "Lee"],
    );
    assert!(
        out.contains("Invited ann@acme.test") && out.contains("mail: 1 sent"),
        "{out}"
    );
    let list = json(db, &["invitations", "list", "--json"]);
    let inv = &list[0];
    assert_eq!(
        (inv["status"].as_str(), inv["delivery"].as_str()),
        (Some("pending"), Some("sent"))
    );
    let expires = time::OffsetDateTime::parse(
        inv["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let created = time::OffsetDateTime::parse(
        inv["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires - created, time::Duration::days(10));
    let files = spool_files(db.dir.path());
    assert_eq!(files.len(), 1);
    let body = files[0].replace("=\r\n", "").replace("=\n", "");
    let human = format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        expires.year(),
        u8::from(expires.month()),
        expires.day(),
        expires.hour(),
        expires.minute()
    );
    assert!(
        body.contains(&format!("The link works until {human}")),
        "{body}"
    );
    let at = body
        .find("http://localhost:8080/enrol/")
        .expect("link with the default public URL");
    let token: String = body[at + 28..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
        .collect();
    assert_eq!(token.len(), 55, "a 12-digit stamp, then 256 bits: {token}");
    assert!(body.contains("To: \"Ann Lee\" <ann@acme.test>"), "{body}");
}

async fn bad_input_is_refused_and_nothing_is_written(db: &TestDb) {
    init(db, "5");
    let audit_before = json(db, &["audit", "list", "--json"])
        .as_array()
        .unwrap()
        .len();
    let cases: [(&[&str], &str); 4] = [
        (&["invite", "bob@"], "'bob@' is not an e-mail address"),
        (
            &[
                "invite",
                "bob@acme.test",
                "--first",
                "Bob\r\nBcc: eve@evil.test",
            ],
            "first name",
        ),
        (
            &["invite", "bob@acme.test", "--frist", "Bob"],
            "unexpected argument '--frist'",
        ),
        (
            &["invitations", "list", "--status", "lost"],
            "'lost' is not a valid InvitationStatus",
        ),
    ];
    for (args, needle) in cases {
        let out = run(db, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains('\r'),
            "no raw control characters echoed: {err:?}"
        );
    }
    let out = usher(db)
        .env("USHER_DATABASE_URL", "postgres://usher@127.0.0.1:1/usher")
        .args(["invite", "bob@acme.test"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("cannot open the database")
            && err.contains("refused"),
        "{err}"
    );
    assert!(
        json(db, &["invitations", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        json(db, &["audit", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        audit_before
    );
    assert!(spool_files(db.dir.path()).is_empty());
}

async fn twenty_processes_race_for_the_last_seat(db: &TestDb) {
    init(db, "2"); // the admin holds one seat, one is free
    let children: Vec<_> = (0..20)
        .map(|i| {
            usher(db)
                .args(["invite", &format!("user{i}@acme.test"), "--no-send"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            ok += 1;
        } else {
            assert!(
                err.contains("no professional licence free"),
                "unexpected failure: {err}"
            );
        }
    }
    assert_eq!(ok, 1, "exactly one process gets the last seat");
    let pending = json(
        db,
        &["invitations", "list", "--status", "pending", "--json"],
    );
    assert_eq!(pending.as_array().unwrap().len(), 1);
}

async fn smtp_rejection_shows_in_the_list_with_the_reply(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    init(db, "5");
    let cfg = db.dir.path().join("usher.toml");
    std::fs::write(
        &cfg,
        format!("[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n", sink.port),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let out = ok(
        db,
        &[
            "--config",
            cfg,
            "invite",
            "reject-me@acme.test",
            "ann@acme.test",
            "--guest",
        ],
    );
    assert!(out.contains("1 sent") && out.contains("1 failed"), "{out}");
    let table = ok(
        db,
        &[
            "--config",
            cfg,
            "invitations",
            "list",
            "--status",
            "pending",
        ],
    );
    let line = table.lines().find(|l| l.contains("reject-me")).unwrap();
    assert!(line.contains("failed") && line.contains("550"), "{line}");
    assert_eq!(sink.messages().len(), 1);
    let status = ok(db, &["--config", cfg, "status"]);
    assert!(status.contains("0 queued, 1 failed"), "{status}");
}

async fn list_commands_print_json_with_stable_fields(db: &TestDb) {
    init(db, "5");
    ok(
        db,
        &["invite", "ann@acme.test", "--guest", "--expires-in", "3"],
    );
    let inv = &json(db, &["invitations", "list", "--json"])[0];
    for field in [
        "id",
        "email",
        "status",
        "user_type",
        "expires_at",
        "delivery",
        "last_error",
    ] {
        assert!(
            inv.get(field).is_some(),
            "invitations list --json lacks {field}: {inv}"
        );
    }
    assert_eq!(inv["user_type"], "guest");
    let user = &json(db, &["users", "list", "--json"])[0];
    for field in [
        "id",
        "email",
        "first_name",
        "last_name",
        "user_type",
        "status",
    ] {
        assert!(
            user.get(field).is_some(),
            "users list --json lacks {field}: {user}"
        );
    }
    let s = json(db, &["status", "--json"]);
    assert_eq!(
        (
            s["users"].as_i64(),
            s["pending_invitations"].as_i64(),
            s["licences_used"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    ok(db, &["invitations", "revoke", "ann@acme.test"]);
    let audit = json(db, &["audit", "list", "--json"]);
    assert_eq!(audit[0]["action"], "invitation.revoke");
    // The operator, then who authenticated: the login on SQLite, the role on PostgreSQL.
    let actor = audit[0]["actor"].as_str().unwrap();
    let id = if db.backend == usher::store::Backend::Sqlite {
        "[os:"
    } else {
        "[db:"
    };
    assert!(
        actor.starts_with(&format!("admin@acme.test {id}")),
        "{actor}"
    );
    let outbox = json(db, &["outbox", "list", "--json"]);
    assert_eq!(outbox[0]["state"], "sent");
    // The only Administrator can be neither made a guest, suspended nor removed.
    for (args, says) in [
        (
            &["users", "set-type", "admin@acme.test", "guest"][..],
            "a guest cannot hold",
        ),
        (
            &["users", "suspend", "admin@acme.test"][..],
            "last active Administrator",
        ),
        (
            &["users", "remove", "admin@acme.test", "--yes"][..],
            "last active Administrator",
        ),
    ] {
        let refused = run(db, args);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
    // The user actions' twins, on a made-up user (a guest).
    ok(db, &["db", "fake-users", "1", "--domain", "acme.test"]);
    let who = "user0000001@acme.test";
    let out = ok(db, &["users", "set-type", who, "professional"]);
    assert!(
        out.contains("Changed user0000001@acme.test (professional, active)"),
        "{out}"
    );
    ok(db, &["users", "suspend", who]);
    assert_eq!(
        json(db, &["users", "show", who, "--json"])["user"]["status"],
        "suspended"
    );
    ok(db, &["users", "reactivate", who]);
    let refused = run(db, &["users", "remove", who]);
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--yes")
    );
    ok(db, &["users", "remove", who, "--yes"]);
    let users = json(db, &["users", "list", "--json"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["email"], "admin@acme.test");
}

#[test]
fn no_command_shows_how_to_start_and_the_help() {
    let db = TestDb::sqlite();
    let out = ok(&db, &[]);
    assert!(
        out.contains("there is no database file at") && out.contains("run `usher init`"),
        "{out}"
    );
    assert!(out.contains("Usage: usher"), "{out}");
    assert!(
        !db.dir.path().join("data/usher.db").exists(),
        "only init creates the database"
    );
    init(&db, "3");
    let out = ok(&db, &[]);
    assert!(out.contains("Licences:            1 used of 3"), "{out}");
}

#[test]
fn unknown_config_keys_are_named() {
    let db = TestDb::sqlite();
    let cfg = db.dir.path().join("bad.toml");
    std::fs::write(&cfg, "[mail]\ntransprot = \"smtp\"\n").unwrap();
    let out = run(&db, &["--config", cfg.to_str().unwrap(), "status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("transprot") && err.contains("bad.toml"),
        "{err}"
    );
}

async fn relay_down_then_up_every_invitation_arrives_once(db: &TestDb) {
    let dir = db.dir.path().join("smtp");
    let mut sink = SmtpSink::start(&dir);
    let port = sink.port;
    sink.stop();
    init(db, "5");
    let cfg = db.dir.path().join("usher.toml");
    std::fs::write(
        &cfg,
        format!("[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n"),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let addrs: Vec<String> = (0..10).map(|i| format!("user{i}@acme.test")).collect();
    let out = ok(
        db,
        &["--config", cfg, "invite", &addrs.join(";"), "--guest"],
    );
    assert!(out.contains("0 sent, 10 will be retried"), "{out}");
    let sink = SmtpSink::start_on(&dir, port);
    // Without --now the retry delay is honoured.
    assert!(ok(db, &["--config", cfg, "outbox", "flush"]).contains("sent 0"));
    assert!(
        ok(db, &["--config", cfg, "outbox", "flush", "--now"])
            .contains("sent 10, to retry 0, failed 0")
    );
    assert!(ok(db, &["--config", cfg, "outbox", "flush", "--now"]).contains("sent 0"));
    let to: Vec<String> = sink
        .messages()
        .into_iter()
        .map(|(to, _)| to.join(","))
        .collect();
    let unique: std::collections::HashSet<&String> = to.iter().collect();
    assert_eq!(
        (to.len(), unique.len()),
        (10, 10),
        "all ten arrive, none twice"
    );
    // A message that failed for good can be put back once the cause is fixed.
    ok(
        db,
        &["--config", cfg, "invite", "reject-x@acme.test", "--guest"],
    );
    let failed = json(db, &["--config", cfg, "outbox", "list", "--json"]);
    let id = failed[0]["id"].as_i64().unwrap();
    assert_eq!(failed[0]["state"], "failed");
    let out = ok(db, &["--config", cfg, "outbox", "retry", &id.to_string()]);
    assert!(
        out.contains("requeued 1") && out.contains("failed 1"),
        "{out}"
    );
    assert_eq!(
        json(db, &["audit", "list", "--json"])[0]["action"],
        "outbox.retry"
    );
}

#[test]
fn sendmail_transport_hands_the_message_to_the_local_mta() {
    let db = TestDb::sqlite();
    let capture = db.dir.path().join("captured");
    let script = db.dir.path().join("sendmail");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {0}.args\ncat > {0}.eml\n",
            capture.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let cfg = db.dir.path().join("usher.toml");
    std::fs::write(&cfg, format!("[mail]\ntransport = \"sendmail\"\nfrom = \"it@acme.test\"\nsendmail_command = \"{}\"\n", script.display())).unwrap();
    init(&db, "5");
    let out = ok(
        &db,
        &["--config", cfg.to_str().unwrap(), "invite", "ann@acme.test"],
    );
    assert!(out.contains("mail: 1 sent"), "{out}");
    let args = std::fs::read_to_string(capture.with_extension("args")).unwrap();
    assert!(
        args.contains("-f it@acme.test") && args.contains("ann@acme.test"),
        "{args}"
    );
    let eml = std::fs::read_to_string(capture.with_extension("eml")).unwrap();
    assert!(
        eml.contains("Subject: admin@acme.test invites you to Acme secure mail"),
        "{eml}"
    );
}

#[test]
fn import_check_reads_validates_and_exits_by_the_result() {
    let db = TestDb::sqlite();
    let good = db.dir.path().join("good.csv");
    std::fs::write(
        &good,
        "Unique Reference,Primary email address,FirstName,LastName\nS-1,ann@acme.test,Ann,Lee\n",
    )
    .unwrap();
    let out = ok(&db, &["import", "check", good.to_str().unwrap()]);
    assert!(
        out.contains("1 valid row(s), 0 row(s) with errors"),
        "{out}"
    );
    assert!(
        out.contains("unique_ref             <- Unique Reference"),
        "{out}"
    );
    let bad = db.dir.path().join("bad.csv");
    std::fs::write(&bad, "email,first name\nann@acme.test,Ann\nbob@,Bob\n").unwrap();
    let out = run(&db, &["import", "check", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["valid"].as_i64(), v["errors"][0]["row"].as_i64()),
        (Some(1), Some(3))
    );
    assert_eq!(v["errors"][0]["column"], "email");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 row(s) have errors"));
    assert!(
        !db.dir.path().join("data").exists(),
        "checking a file touches no database"
    );
}

#[test]
fn import_preview_counts_the_buckets_and_fails_on_errors() {
    let db = TestDb::sqlite();
    init(&db, "5");
    let f = db.dir.path().join("p.csv");
    std::fs::write(
        &f,
        "email,first name\nann@acme.test,Ann\nadmin@acme.test,\nx@other.test,X\n",
    )
    .unwrap();
    let out = ok(&db, &["import", "preview", f.to_str().unwrap()]);
    for line in [
        "1  new users",
        "0  existing users and invitations updated",
        "1  unchanged",
        "1  outside the account's domains",
        "0  errors",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    // A row with two faults is one row that cannot be imported.
    std::fs::write(
        &f,
        "email,first name\nann@acme.test,Ann\nbob@,B\u{202E}ob\n",
    )
    .unwrap();
    let out = run(&db, &["import", "preview", f.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["counts"]["new"].as_i64(), v["counts"]["error"].as_i64()),
        (Some(1), Some(1))
    );
    // Plain text says the same by its exit status, as the README promises.
    let plain = run(&db, &["import", f.to_str().unwrap(), "--dry-run"]);
    assert_eq!(plain.status.code(), out.status.code());
    let said = String::from_utf8_lossy(&plain.stderr);
    assert!(said.contains("1 row(s) cannot be imported"), "{said}");
    let shown = String::from_utf8_lossy(&plain.stdout);
    assert!(
        shown.contains("column 'first name': 'B\\u{202e}ob'")
            && shown.contains("; column 'email': 'bob@' is not an e-mail address"),
        "both faults on the row's one line: {shown}"
    );
    assert_eq!(
        json(&db, &["users", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was changed"
    );
}

#[test]
fn import_file_is_a_dry_run_until_apply_yes() {
    let db = TestDb::sqlite();
    init(&db, "5");
    let f = db.dir.path().join("staff.csv");
    std::fs::write(
        &f,
        "email,first name\nann@acme.test,Ann\nbob@acme.test,Bob\n",
    )
    .unwrap();
    let file = f.to_str().unwrap();
    let users = |db: &TestDb| json(db, &["invitations", "list", "--json"]);
    for args in [
        vec!["import", file, "--json"],
        vec!["import", file, "--dry-run", "--json"],
    ] {
        let v = json(&db, &args);
        assert_eq!(v["counts"]["new"].as_i64(), Some(2), "{args:?}: {v}");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(
            rows[0]["row"].as_i64(),
            Some(2),
            "row numbers as in the file: {v}"
        );
    }
    assert_eq!(
        users(&db).as_array().unwrap().len(),
        0,
        "a dry run changes nothing"
    );
    let refused = run(&db, &["import", file, "--apply"]);
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--yes")
    );
    let both = run(&db, &["import", file, "--apply", "--dry-run"]);
    assert!(!both.status.success(), "--apply and --dry-run conflict");
    let out = ok(&db, &["import", file, "--apply", "--yes", "--exclude", "3"]);
    assert!(out.contains("invited 1"), "{out}");
    let invited = users(&db);
    assert_eq!(invited.as_array().unwrap().len(), 1, "{invited}");
    assert_eq!(invited[0]["email"].as_str(), Some("ann@acme.test"));
}

#[test]
fn import_apply_history_and_undo_from_the_command_line() {
    let db = TestDb::sqlite();
    init(&db, "5");
    let f = db.dir.path().join("staff.csv");
    std::fs::write(&f, "email,first name,last name\nadmin@acme.test,,\nann@acme.test,Ann,Lee\nbob@acme.test,Bob,Smith\n").unwrap();
    let file = f.to_str().unwrap();
    let refused = run(&db, &["import", "apply", file]);
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--yes")
    );
    let preview = ok(&db, &["import", "preview", file]);
    let digest = preview
        .lines()
        .find_map(|l| l.trim().strip_prefix("digest"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let out = ok(
        &db,
        &["import", "apply", file, "--expect", &digest, "--yes"],
    );
    assert!(
        out.contains("invited 2") && out.contains("mail: 2 sent"),
        "{out}"
    );
    assert_eq!(spool_files(db.dir.path()).len(), 2);
    let history = json(&db, &["import", "history", "--json"]);
    assert_eq!(
        (
            history[0]["file_name"].as_str(),
            history[0]["file_sha256"].as_str().map(str::len)
        ),
        (Some("staff.csv"), Some(64))
    );
    let batch = history[0]["id"].as_i64().unwrap().to_string();
    let out = ok(&db, &["import", "undo", &batch, "--yes"]);
    assert!(out.contains("2 invitations revoked"), "{out}");
    let revoked = json(
        &db,
        &["invitations", "list", "--status", "revoked", "--json"],
    );
    assert_eq!(revoked.as_array().unwrap().len(), 2);
    assert_eq!(
        json(&db, &["audit", "list", "--json"])[0]["action"],
        "import.undo"
    );
}

/// An import queued without sending: the status and the outbox list say its mail waits to
/// be drafted, and a flush drafts and sends it.
#[test]
fn an_imports_mail_waits_to_be_drafted_until_a_flush() {
    let db = TestDb::sqlite();
    init(&db, "5");
    let f = db.dir.path().join("staff.csv");
    std::fs::write(&f, "email\nann@acme.test\nbob@acme.test\n").unwrap();
    let out = ok(
        &db,
        &[
            "import",
            f.to_str().unwrap(),
            "--apply",
            "--yes",
            "--no-send",
        ],
    );
    assert!(out.contains("invited 2"), "{out}");
    let status = ok(&db, &["status"]);
    assert!(
        status.contains("2 queued (2 of them imported invitations, drafted as they are sent)"),
        "{status}"
    );
    let list = ok(&db, &["outbox", "list"]);
    assert!(
        list.contains("and 2 invitation(s) from imports, queued"),
        "{list}"
    );
    assert_eq!(
        json(&db, &["outbox", "list", "--json"]),
        serde_json::json!([])
    );
    assert!(ok(&db, &["outbox", "flush"]).contains("sent 2"));
    assert_eq!(spool_files(db.dir.path()).len(), 2);
    let status = ok(&db, &["status"]);
    assert!(status.contains("0 queued, 0 failed"), "{status}");
    let sent = json(&db, &["outbox", "list", "--json"]);
    assert_eq!(sent.as_array().unwrap().len(), 2, "{sent}");
}
