//! The mail server reads usher: real Dovecot (Debian's 2.3) and Postfix's `postmap`
//! reading the configuration `usher mailserver config` writes, on both backends. A user
//! invited and enrolled over HTTP logs in over IMAP; suspended, they cannot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/dovecot.rs"]
mod dovecot;
#[path = "common/server.rs"]
mod server;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use usher::mailserver::{ImapLogin, imap_login};
use usher::store::Backend;

use common::TestDb;
use common::smtp::SmtpSink;
use dovecot::Dovecot;
use server::{Served, link_path, wait_for_mail};

on_both_backends!(
    an_enrolled_user_logs_in_over_imap_and_a_suspended_one_cannot,
    postfix_looks_up_users_shared_mailboxes_domains_and_senders,
    dovecot_24_reads_the_24_form,
);

const PASSWORD: &str = "tawny-quarry-lemon-88";

/// Invites ann, and enrols her over HTTP with PASSWORD, as an invitee would.
async fn enrol_ann(s: &Served, db: &TestDb, sink: &SmtpSink) {
    s.cli(
        db,
        &["invite", "ann@acme.test", "--first", "Ann", "--last", "Lee"],
    );
    let path = link_path(&wait_for_mail(sink, "ann@acme.test", "/enrol/"), "/enrol/");
    let url = format!("{}{path}", s.base);
    let c = reqwest::Client::new();
    let r = c.get(&url).send().await.unwrap();
    let cookie = r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    let form = [
        ("csrf", csrf.as_str()),
        ("answer", "accept"),
        ("display_name", "Ann Lee"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
        ("personal_mailbox", "yes"),
    ];
    let r = c
        .post(&url)
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Your account is ready"), "{body}");
}

fn init(s: &Served, db: &TestDb) {
    s.cli(
        db,
        &[
            "init",
            "--org",
            "Acme",
            "--domain",
            "acme.test",
            "--licences",
            "10",
            "--admin",
            "admin@acme.test",
        ],
    );
}

/// On PostgreSQL the mail server logs in as a role of its own (unique per test, since
/// roles belong to the cluster); on SQLite it reads the file.
fn mail_role(s: &Served, db: &TestDb) -> String {
    let role = format!(
        "usher_mail_{}",
        usher::domain::token::random_hex(4).unwrap()
    );
    if db.backend == Backend::Postgres {
        let said = s.cli(db, &["mailserver", "role", &role]);
        assert!(said.contains(&format!("Created the role {role}")), "{said}");
    }
    role
}

async fn login(d: &Dovecot, user: &str, password: &str) -> ImapLogin {
    imap_login(&d.addr(), user, password, Duration::from_secs(10))
        .await
        .unwrap()
}

async fn an_enrolled_user_logs_in_over_imap_and_a_suspended_one_cannot(db: &TestDb) {
    if !dovecot::available() {
        return;
    }
    // Dovecot caches logins here, so a change is seen at once only because usher runs
    // the site's `doveadm auth cache flush` after it.
    let dir = db.dir.path().join("dovecot");
    let conf = Dovecot::conf(&dir);
    let hook = format!(
        "[mailserver]\nafter_change = [[\"doveadm\", \"-c\", \"{}\", \"auth\", \"cache\", \"flush\", \"{{login}}\"]]\n",
        conf.display()
    );
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(db, &sink, &hook);
    init(&s, db);
    enrol_ann(&s, db, &sink).await;
    let shown = s.cli(db, &["users", "show", "ann@acme.test"]);
    assert!(shown.contains("Mail login: yes"), "{shown}");
    let shown = s.cli(db, &["users", "show", "admin@acme.test"]);
    assert!(shown.contains("Mail login: no, no password yet"), "{shown}");

    let (d, role) = start_dovecot(&s, db, &dir);
    assert_eq!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Accepted,
        "{}",
        d.logs()
    );
    assert_eq!(
        login(&d, "Ann@Acme.test", PASSWORD).await,
        ImapLogin::Accepted,
        "any case"
    );
    assert!(matches!(
        login(&d, "ann@acme.test", "tawny-quarry-lemon-89").await,
        ImapLogin::Refused(_)
    ));
    assert!(
        matches!(
            login(&d, "admin@acme.test", PASSWORD).await,
            ImapLogin::Refused(_)
        ),
        "no password yet"
    );
    assert!(
        dir.join("vmail/acme.test/ann/Maildir").is_dir(),
        "the mailbox was made where the snippet says"
    );

    // The CLI's check logs in as a mail client would.
    let pw = db.dir.path().join("ann.pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let check = [
        "mailserver",
        "check",
        "--imap",
        &d.addr(),
        "--login",
        "ann@acme.test",
        "--password-file",
        pw.to_str().unwrap(),
    ];
    let checked = s.cli(db, &check);
    assert!(
        checked.contains("IMAP: ann@acme.test logged in and opened their inbox."),
        "{checked}"
    );
    assert!(
        checked.contains("1 login(s) may log in to mail."),
        "{checked}"
    );

    // Suspended: refused at the next login, the cache flushed; reactivated: in again.
    s.cli(db, &["users", "suspend", "ann@acme.test"]);
    assert!(matches!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Refused(_)
    ));
    let refused = Served::command(db, &s.config).args(check).output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the login of ann@acme.test was refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        s.cli(db, &["users", "show", "ann@acme.test"])
            .contains("Mail login: no, suspended")
    );
    s.cli(db, &["users", "reactivate", "ann@acme.test"]);
    assert_eq!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Accepted
    );

    reset_then_change(&s, db, &sink, &d).await;
    let audit = s.cli(db, &["audit", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&audit).unwrap();
    let flushes: Vec<_> = rows
        .iter()
        .filter(|r| r["action"] == "mailserver.after_change")
        .collect();
    assert_eq!(
        flushes.len(),
        4,
        "suspend, reactivate, reset, change: {audit}"
    );
    let clean = |r: &&serde_json::Value| {
        let text = r["details"].to_string().replace('\\', "");
        text.contains("\"failed\":0") && text.contains("doveadm")
    };
    assert!(flushes.iter().all(clean), "{flushes:?}");
    drop_role(db, &role).await;
}

/// Dovecot on usher's configuration, with its authentication cache on.
fn start_dovecot(s: &Served, db: &TestDb, dir: &Path) -> (Dovecot, String) {
    // Dovecot's unprivileged processes must reach the mail homes.
    std::fs::set_permissions(db.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let homes = dir.join("vmail");
    std::fs::create_dir_all(&homes).unwrap();
    std::fs::set_permissions(&homes, std::fs::Permissions::from_mode(0o777)).unwrap();
    let role = mail_role(s, db);
    let u = dovecot::users();
    let said = s.cli(
        db,
        &[
            "mailserver",
            "config",
            "dovecot",
            "--dovecot-version",
            "2.3",
            "--dir",
            dir.join("usher").to_str().unwrap(),
            "--role",
            &role,
            "--vmail-user",
            &u.vmail,
            "--vmail-group",
            &u.vmail_group,
            "--home-root",
            homes.to_str().unwrap(),
        ],
    );
    assert!(said.contains("usher-sql.conf.ext"), "{said}");
    let d = Dovecot::start(
        dir,
        &dir.join("usher/usher-auth.conf.ext"),
        "auth_cache_size = 1M\nauth_cache_ttl = 1 hour\nauth_cache_negative_ttl = 1 hour",
    );
    (d, role)
}

/// A reset link sent by an operator and used over HTTP, then a change with the current
/// password: each time the new password logs in and the old one is refused at once.
async fn reset_then_change(s: &Served, db: &TestDb, sink: &SmtpSink, d: &Dovecot) {
    let said = s.cli(db, &["users", "reset-password", "ann@acme.test"]);
    assert!(said.contains("Queued a link for ann@acme.test"), "{said}");
    let path = link_path(
        &wait_for_mail(sink, "ann@acme.test", "/password/reset/"),
        "/password/reset/",
    );
    let reset = format!("{}{path}", s.base);
    let (cookie, csrf) = form_cookie(&reset).await;
    let c = reqwest::Client::new();
    let form = [
        ("csrf", csrf.as_str()),
        ("password", RESET),
        ("confirm", RESET),
    ];
    let r = c
        .post(&reset)
        .header(COOKIE, &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Your password is changed"), "{body}");
    assert_eq!(login(d, "ann@acme.test", RESET).await, ImapLogin::Accepted);
    assert!(
        matches!(
            login(d, "ann@acme.test", PASSWORD).await,
            ImapLogin::Refused(_)
        ),
        "the old one, at once"
    );
    let again = c
        .post(&reset)
        .header(COOKIE, &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        reqwest::StatusCode::NOT_FOUND,
        "the link works once"
    );

    let change = format!("{}/password/change", s.base);
    let (cookie, csrf) = form_cookie(&change).await;
    let post = |current: &'static str| {
        let form = [
            ("csrf", csrf.clone()),
            ("email", "ann@acme.test".into()),
            ("current", current.into()),
            ("password", CHANGED.into()),
            ("confirm", CHANGED.into()),
        ];
        c.post(&change)
            .header(COOKIE, cookie.clone())
            .form(&form)
            .send()
    };
    let wrong = post(PASSWORD).await.unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("current password or the address is wrong")
    );
    let ok = post(RESET).await.unwrap().text().await.unwrap();
    assert!(ok.contains("Your password is changed"), "{ok}");
    assert_eq!(
        login(d, "ann@acme.test", CHANGED).await,
        ImapLogin::Accepted
    );
    assert!(matches!(
        login(d, "ann@acme.test", RESET).await,
        ImapLogin::Refused(_)
    ));
}

const RESET: &str = "mossy-canyon-orbit-63";
const CHANGED: &str = "velvet-summit-ember-29";

/// A form page's CSRF cookie and value.
async fn form_cookie(url: &str) -> (String, String) {
    let r = reqwest::Client::new().get(url).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
    let cookie = r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    (cookie, csrf)
}

/// Debian 13's Dovecot 2.4, in a root CI makes with debootstrap, reads the 2.4 form.
async fn dovecot_24_reads_the_24_form(db: &TestDb) {
    let Some(root) = Dovecot::root_24() else {
        return;
    };
    // What Dovecot reads must lie under its root: SQLite's file, the homes, the config.
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let inside = TestDb::sqlite_in(&root.join("tmp"));
    let db = if db.backend == Backend::Sqlite {
        &inside
    } else {
        db
    };
    let work = tempfile::tempdir_in(root.join("tmp")).unwrap();
    for d in [inside.dir.path(), work.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    cli::init(db, "10");
    cli::ok(db, &["users", "create", "ann@acme.test", "--first", "Ann"]);
    {
        let store = usher::store::Store::open(&cli_url(db), &Default::default())
            .await
            .unwrap();
        let phc =
            usher::domain::password::hash_password(&usher::config::Secret::new(PASSWORD)).unwrap();
        let mut tx = store.write().await.unwrap();
        let id = tx
            .user_by_email(1, "ann@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        tx.set_password_hash(id, &phc, false).await.unwrap();
        tx.commit().await.unwrap();
    }
    let role = if db.backend == Backend::Postgres {
        let role = format!(
            "usher_mail_{}",
            usher::domain::token::random_hex(4).unwrap()
        );
        cli::ok(db, &["mailserver", "role", &role]);
        role
    } else {
        "usher_mail".to_owned()
    };
    let homes = work.path().join("vmail");
    std::fs::create_dir_all(&homes).unwrap();
    std::fs::set_permissions(&homes, std::fs::Permissions::from_mode(0o777)).unwrap();
    let snippet = work.path().join("usher");
    cli::ok(
        db,
        &[
            "mailserver",
            "config",
            "dovecot",
            "--dovecot-version",
            "2.4",
            "--dir",
            snippet.to_str().unwrap(),
            "--role",
            &role,
            "--vmail-user",
            "nobody",
            "--vmail-group",
            "nogroup",
            "--home-root",
            homes.to_str().unwrap(),
        ],
    );
    let d = Dovecot::start_24(&root, work.path(), &snippet.join("usher-auth.conf.ext"));
    assert_eq!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Accepted,
        "{}",
        d.logs()
    );
    assert!(matches!(
        login(&d, "ann@acme.test", "tawny-quarry-lemon-89").await,
        ImapLogin::Refused(_)
    ));
    assert!(homes.join("acme.test/ann/Maildir").is_dir(), "{}", d.logs());
    cli::ok(db, &["users", "suspend", "ann@acme.test"]);
    assert!(matches!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Refused(_)
    ));
    drop(d);
    drop_role(db, &role).await;
}

/// The database the CLI of a test uses: its data directory's file, or PostgreSQL's URL.
fn cli_url(db: &TestDb) -> String {
    match db.backend {
        Backend::Sqlite => format!("sqlite://{}", db.dir.path().join("data/usher.db").display()),
        Backend::Postgres => db.url.clone(),
    }
}

/// The test's role goes with its schema; the cluster keeps no trace of it.
async fn drop_role(db: &TestDb, role: &str) {
    if db.backend != Backend::Postgres {
        return;
    }
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

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
    let role = if db.backend == Backend::Postgres {
        let role = format!(
            "usher_mail_{}",
            usher::domain::token::random_hex(4).unwrap()
        );
        cli::ok(db, &["mailserver", "role", &role]);
        role
    } else {
        "usher_mail".to_owned()
    };
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
