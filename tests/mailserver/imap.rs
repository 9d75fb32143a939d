//! Dovecot 2.3 with its login cache on: the invitee's journey, suspension, a reset link
//! and a change of password, each seen at the next login because usher flushes the cache.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reqwest::header::{COOKIE, SET_COOKIE};
use usher::mailserver::ImapLogin;

use crate::common::TestDb;
use crate::common::smtp::SmtpSink;
use crate::dovecot::{self, Dovecot};
use crate::server::{Served, link_path, wait_for_mail};
use crate::{PASSWORD, drop_role, login, mail_role};

crate::on_both_backends!(an_enrolled_user_logs_in_over_imap_and_a_suspended_one_cannot);

/// Invites ann, and enrols her over HTTP with PASSWORD, as an invitee would.
async fn enrol_ann(s: &Served, db: &TestDb, sink: &SmtpSink) {
    s.cli(
        db,
        &["invite", "ann@acme.test", "--first", "Ann", "--last", "Lee"],
    );
    let path = link_path(&wait_for_mail(sink, "ann@acme.test", "/enrol/"), "/enrol/");
    let url = format!("{}{path}", s.base);
    let (cookie, csrf) = form_cookie(&url).await;
    let c = reqwest::Client::new();
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
    s.init(db);
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
    let role = mail_role(db);
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
