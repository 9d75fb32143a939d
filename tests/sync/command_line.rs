//! `usher sync` as scripts use it: the preview JSON an import's dry run prints, exit
//! statuses that say pending, in step and held, status and history.

use crate::cli;
use crate::common::TestDb;
use crate::slapd::{self, Shape, person};

crate::on_both_backends!(
    sync_commands_preview_apply_and_report,
    serve_runs_a_source_when_it_is_due,
    a_refused_bind_and_a_server_down_say_so
);

/// `usher` reading the config at `config`.
fn usher(db: &TestDb, config: &std::path::Path) -> std::process::Command {
    let mut c = cli::usher(db);
    c.env("USHER_CONFIG", config);
    c
}

/// An account made with `usher init`, and a config holding `toml`, whose path is returned.
fn site(db: &TestDb, toml: &str) -> std::path::PathBuf {
    let config = db.dir.path().join("usher.toml");
    std::fs::write(&config, toml).unwrap();
    let init = usher(db, &config)
        .args(["init", "--org", "Acme", "--domain", "acme.test"])
        .args(["--licences", "10", "--admin", "admin@acme.test"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    config
}

async fn sync_commands_preview_apply_and_report(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[
            person("ann", "Ann", "Lee", "ann@acme.test"),
            person("bob", "Bob", "Ng", "bob@acme.test"),
            person("cy", "Cy", "Oh", "cy@acme.test"),
        ],
    ) else {
        return;
    };
    let config = site(db, &ldap.source_toml("corp", ""));
    let run = |args: &[&str]| usher(db, &config).args(args).output().unwrap();
    for (mail, first) in [("ann@acme.test", "Ann"), ("bob@acme.test", "Bob")] {
        assert!(
            run(&["users", "create", mail, "--first", first])
                .status
                .success()
        );
    }

    let dry = run(&["sync", "corp", "--dry-run", "--json"]);
    assert_eq!(dry.status.code(), Some(2), "changes pending");
    let v: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    for key in ["counts", "notes", "licences", "digest", "rows"] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    assert_eq!(v["counts"]["new"], 1);
    assert_eq!(v["counts"]["updated"], 2, "their references");
    assert_eq!(v["counts"]["missing"], 1);
    assert_eq!(v["sync"]["entries"], 3);

    let refused = run(&["sync", "corp", "--apply"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    let applied = run(&["sync", "corp", "--apply", "--yes", "--no-send"]);
    let said = String::from_utf8_lossy(&applied.stdout);
    assert!(applied.status.success(), "{said}");
    assert!(said.contains("applied: invited 1, updated 2"), "{said}");
    let in_step = run(&["sync", "corp", "--dry-run"]);
    assert_eq!(in_step.status.code(), Some(0), "in step");

    // Two of three active users gone is over 20 %: held, exit status 3, nothing changed.
    ldap.delete(&[
        &format!("uid=ann,ou=people,{}", slapd::SUFFIX),
        &format!("uid=bob,ou=people,{}", slapd::SUFFIX),
    ]);
    let held = run(&["sync", "corp", "--apply", "--yes"]);
    let said = String::from_utf8_lossy(&held.stdout).into_owned();
    assert_eq!(held.status.code(), Some(3), "{said}");
    assert!(said.contains("held, nothing changed"), "{said}");
    let status = run(&["sync", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v[0]["source"], "corp");
    assert_eq!(v[0]["waiting"]["outcome"], "held");
    assert_eq!(v[0]["last_applied"]["outcome"], "applied");
    let history = run(&["sync", "history"]);
    let said = String::from_utf8_lossy(&history.stdout);
    assert!(said.contains("held") && said.contains("applied"), "{said}");
    let unknown = run(&["sync", "nope", "--dry-run"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("the config has corp"));
}

/// `usher serve` runs a source with an interval at once (it has never run), as the
/// schedule's own run, and logs what it did.
async fn serve_runs_a_source_when_it_is_due(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[person("ann", "Ann", "Lee", "ann@acme.test")],
    ) else {
        return;
    };
    let config = site(db, &ldap.source_toml("corp", "interval_minutes = 60\n"));
    let log = db.dir.path().join("serve.log");
    let mut serve = usher(db, &config)
        .args(["serve", "--bind", "127.0.0.1:0", "--no-send"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(db.dir.path().join("serve.err")).unwrap())
        .spawn()
        .unwrap();
    let mut runs = serde_json::Value::Null;
    for _ in 0..100 {
        let out = usher(db, &config)
            .args(["sync", "history", "--json"])
            .output()
            .unwrap();
        runs = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if runs.as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(runs[0]["outcome"], "applied", "{runs}");
    assert!(
        runs[0]["actor"]
            .as_str()
            .unwrap()
            .ends_with("(sync schedule)")
    );
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("sync corp every 60 minute(s)"), "{said}");
    let logged = std::fs::read_to_string(db.dir.path().join("serve.err")).unwrap();
    assert!(logged.contains("sync corp: run"), "{logged}");
}

/// A wrong bind password and a directory that is not there: one line each naming the DN
/// or the URL, exit status 1, no backtrace, nothing changed, and the failed run recorded.
async fn a_refused_bind_and_a_server_down_say_so(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[person("ann", "Ann", "Lee", "ann@acme.test")],
    ) else {
        return;
    };
    let pass = ldap.dir.join("wrong.pass");
    std::fs::write(&pass, "not-the-password\n").unwrap();
    let wrong = ldap.source_toml("corp", "").replace(
        &ldap.dir.join("bind.pass").display().to_string(),
        &pass.display().to_string(),
    );
    let down = ldap
        .source_toml("down", "")
        .replace(&ldap.url(), "ldap://127.0.0.1:9");
    let config = site(db, &format!("{wrong}\n{down}"));
    let run = |args: &[&str]| usher(db, &config).args(args).output().unwrap();
    let refused = run(&["sync", "corp", "--apply", "--yes"]);
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(
        said.contains("refused the bind as cn=admin,dc=acme,dc=test (LDAP code 49"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "one line, no backtrace: {said}");
    let gone = run(&["sync", "down", "--dry-run"]);
    let said = String::from_utf8_lossy(&gone.stderr).into_owned();
    assert_eq!(gone.status.code(), Some(1), "{said}");
    assert!(
        said.contains("cannot reach the directory ldap://127.0.0.1:9"),
        "{said}"
    );
    let status: serde_json::Value =
        serde_json::from_slice(&run(&["sync", "status", "--json"]).stdout).unwrap();
    assert_eq!(status[0]["last_run"]["outcome"], "failed");
    assert_eq!(status[1]["last_run"]["outcome"], "failed");
    let users: serde_json::Value =
        serde_json::from_slice(&run(&["users", "list", "--json"]).stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 1, "only the administrator");
}
