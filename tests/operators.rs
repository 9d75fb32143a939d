//! Operators are who the operating system says (issue 25): on SQLite a second host login,
//! made by the test, that can write the database file cannot act as another operator by
//! setting USHER_OPERATOR (or `$USER`); linked to a user, it acts as that user alone,
//! with that user's permissions, and the audit log names both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use cli::{ok, usher};
use common::TestDb;

/// A login made for the test and removed after it.
struct Login(String);

impl Login {
    /// None when this host cannot make logins (not root, or no useradd).
    fn make() -> Option<Self> {
        if !nix_is_root() || Command::new("useradd").arg("--help").output().is_err() {
            eprintln!("skipped: making a login needs root and useradd");
            return None;
        }
        let name = format!("uop{}", std::process::id());
        let made = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", &name])
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        Some(Self(name))
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).output();
    }
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Lets anyone write the directory and its files: the case the README warns of, where
/// the file's write permission is all that stands between a login and the database.
fn open_to_all(dir: &Path) {
    for entry in walk(dir) {
        let mode = if entry.is_dir() { 0o777 } else { 0o666 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_owned()];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `usher args` run as `login`, claiming to be root in `$USER` and `$LOGNAME`.
fn as_login(db: &TestDb, login: &str, operator: Option<&str>, args: &[&str]) -> Output {
    let c = usher(db);
    let mut r = Command::new("runuser");
    r.args(["-u", login, "--", "env"]);
    for (k, v) in c.get_envs() {
        if let Some(v) = v
            && k != "USHER_OPERATOR"
        {
            r.arg(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    if let Some(op) = operator {
        r.arg(format!("USHER_OPERATOR={op}"));
    }
    r.args(["USER=root", "LOGNAME=root"]);
    r.arg(c.get_program()).args(args);
    r.output().unwrap()
}

fn refused(out: &Output, words: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(words),
        "{:?} {err} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_second_login_acts_only_as_its_linked_user() {
    let Some(login) = Login::make() else {
        return;
    };
    let who = format!("os:{}", login.0);
    let db = TestDb::sqlite();
    cli::init(&db, "20");
    ok(
        &db,
        &[
            "roles",
            "create",
            "Inviters",
            "--permissions",
            "users.invite",
        ],
    );
    ok(&db, &["users", "create", "ivy@acme.test", "--first", "Ivy"]);
    ok(&db, &["grant", "ivy@acme.test", "Inviters"]);
    open_to_all(db.dir.path());

    // Not linked: nothing that needs a permission, whatever it claims to be.
    let out = as_login(
        &db,
        &login.0,
        Some("admin@acme.test"),
        &["invite", "x@acme.test", "--no-send"],
    );
    refused(&out, &format!("{who} is not an operator of account"));
    let out = as_login(
        &db,
        &login.0,
        None,
        &["grant", "ivy@acme.test", "Administrator"],
    );
    refused(&out, "is not an operator");

    ok(&db, &["operators", "link", &who, "ivy@acme.test"]);
    open_to_all(db.dir.path());

    // Linked to Ivy: naming the administrator is refused; as Ivy it may invite, and not
    // suspend, nor change who the operators are.
    let out = as_login(
        &db,
        &login.0,
        Some("admin@acme.test"),
        &["invite", "x@acme.test", "--no-send"],
    );
    refused(&out, "acts as ivy@acme.test only");
    let out = as_login(&db, &login.0, None, &["invite", "y@acme.test", "--no-send"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = as_login(
        &db,
        &login.0,
        Some("ivy@acme.test"),
        &["users", "suspend", "admin@acme.test"],
    );
    refused(&out, "needs the permission users.manage");
    let out = as_login(
        &db,
        &login.0,
        None,
        &["operators", "link", &who, "admin@acme.test"],
    );
    refused(&out, "only an Administrator may");

    let audit = ok(&db, &["audit", "list", "--json", "--limit", "5"]);
    assert!(
        audit.contains(&format!("ivy@acme.test [{who}]")),
        "the audit log names the user and the login: {audit}"
    );
    let list = ok(&db, &["operators", "list"]);
    assert!(
        list.contains(&who) && list.contains("ivy@acme.test"),
        "{list}"
    );

    ok(&db, &["operators", "remove", &who]);
    let out = as_login(&db, &login.0, None, &["invite", "z@acme.test", "--no-send"]);
    refused(&out, "is not an operator");
}
