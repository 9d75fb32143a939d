//! `usher serve` over real HTTP, on both backends: the invitee's journey with the mail
//! read from a real SMTP server, the link used once under fifty parallel submissions, the
//! security headers, CSRF, limits, escaping, self-registration, TLS and a graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/server.rs"]
mod server;

use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use reqwest::{Client, StatusCode};

use common::TestDb;
use common::smtp::SmtpSink;
use server::{Served, link_path, wait_for_mail};

on_both_backends!(
    an_invitee_enrols_over_http_and_the_inviter_is_told,
    fifty_parallel_submissions_of_one_link_make_one_account,
    forms_are_guarded_and_values_escaped,
    self_registration_over_http,
    forgot_password_answers_alike_for_every_address,
);

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GETs a form page; returns the status, body, and the CSRF value with its cookie.
async fn open_form(
    c: &Client,
    url: &str,
) -> (StatusCode, HeaderMap, String, Option<(String, String)>) {
    let r = c.get(url).send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let body = r.text().await.unwrap();
    let csrf = headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|kv| {
            let value = kv.split_once('=').unwrap().1.to_owned();
            (value, kv.to_owned())
        });
    (status, headers, body, csrf)
}

async fn post(c: &Client, url: &str, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c
        .post(url)
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn an_invitee_enrols_over_http_and_the_inviter_is_told(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let mut s = Served::start(db, &sink, "");
    s.init(db);
    s.cli(
        db,
        &["invite", "ann@acme.test", "--first", "Ann", "--last", "Lee"],
    );
    let mail = wait_for_mail(&sink, "ann@acme.test", "/enrol/");
    assert!(
        mail.contains("The link works until"),
        "the expiry is stated"
    );
    let path = link_path(&mail, "/enrol/");
    let url = format!("{}{path}", s.base);
    let c = client();

    let (status, headers, body, csrf) = open_form(&c, &url).await;
    assert_eq!(status, StatusCode::OK);
    for (h, v) in [
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(headers.get(h).and_then(|v| v.to_str().ok()), Some(v), "{h}");
    }
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(!body.contains("<script"), "no JavaScript");
    for id in ["display_name", "password", "confirm", "personal_mailbox"] {
        assert!(
            body.contains(&format!("<label for=\"{id}\"")),
            "a label for {id}"
        );
        assert!(body.contains(&format!("id=\"{id}\"")), "a field {id}");
    }
    assert!(body.contains("value=\"Ann Lee\""), "the name is pre-filled");
    let (csrf, cookie) = csrf.unwrap();
    assert!(cookie.starts_with("usher_csrf="));
    assert!(
        headers[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("SameSite=Strict")
    );

    // Mismatched confirmation and a common password: the form again, with the reason.
    let form = |pw: &'static str, confirm: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("answer", "accept".into()),
            ("display_name", "Ann Lee".into()),
            ("password", pw.into()),
            ("confirm", confirm.into()),
            ("personal_mailbox", "yes".into()),
        ]
    };
    let as_refs = |f: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { f.clone() };
    let send = |f: Vec<(&'static str, String)>| {
        let (c, url, cookie) = (c.clone(), url.clone(), cookie.clone());
        async move {
            let r = c
                .post(&url)
                .header(COOKIE, cookie)
                .form(&f)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (st, body) = send(as_refs(&form("tawny-quarry-lemon-88", "different"))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("The two passwords differ"), "{body}");
    assert!(body.contains("aria-invalid=\"true\""));
    let (st, body) = send(form("password1234", "password1234")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("commonly used passwords"), "{body}");
    let (st, body) = send(form("Ann-Lee-garden-2026", "Ann-Lee-garden-2026")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (st, body) = send(form("tawny-quarry-lemon-88", "tawny-quarry-lemon-88")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body.contains("Your account is ready"), "{body}");

    // The inviter is told, through the server's own sender.
    let note = wait_for_mail(&sink, "admin@acme.test", "has accepted");
    assert!(note.contains("Ann Lee <ann@acme.test>"), "{note}");
    assert!(note.contains("personal mailbox was created"), "{note}");
    let shown = s.cli(db, &["users", "show", "ann@acme.test"]);
    assert!(shown.contains("active"), "{shown}");
    // The audit log names the web as the channel, not SSH.
    let audit = s.cli(db, &["audit", "list", "--json"]);
    assert!(
        audit.contains("ann@acme.test (web from 127.0.0.1)"),
        "{audit}"
    );
    assert!(!audit.contains("ssh from"), "{audit}");

    // Used, then forged: the same page, the same words.
    let (st_used, _, used, _) = open_form(&c, &url).await;
    let (st_forged, _, forged, _) = open_form(&c, &format!("{}/enrol/forged-token", s.base)).await;
    assert_eq!(
        (st_used, st_forged),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(used, forged);
    assert!(used.contains("ask your administrator") || used.contains("Ask your administrator"));

    // SIGTERM: a clean stop; no link in anything the server wrote.
    let status = s.stop().unwrap();
    assert!(status.success(), "{status:?}");
    let log = s.log_text();
    assert!(log.contains("/enrol/…"), "requests are logged: {log}");
    let token = path.trim_start_matches("/enrol/");
    assert!(!log.contains(token), "the token leaked into the log");
}

async fn fifty_parallel_submissions_of_one_link_make_one_account(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(
        db,
        &sink,
        "attempts_per_link = 1000\nrequests_per_minute = 10000",
    );
    s.init(db);
    s.cli(db, &["invite", "race@acme.test"]);
    let url = format!(
        "{}{}",
        s.base,
        link_path(
            &wait_for_mail(&sink, "race@acme.test", "/enrol/"),
            "/enrol/"
        )
    );
    let c = client();
    let (_, _, _, csrf) = open_form(&c, &url).await;
    let (csrf, cookie) = csrf.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (c, url, cookie, csrf) = (c.clone(), url.clone(), cookie.clone(), csrf.clone());
        tasks.push(tokio::spawn(async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("answer", "accept"),
                ("display_name", "Rae Cing"),
                ("password", "tawny-quarry-lemon-88"),
                ("confirm", "tawny-quarry-lemon-88"),
            ];
            post(&c, &url, &cookie, &form).await.0
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    let made = codes.iter().filter(|c| **c == StatusCode::OK).count();
    assert_eq!(made, 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| *c == StatusCode::OK || *c == StatusCode::NOT_FOUND)
    );
    let list = s.cli(db, &["users", "list", "--search", "race@"]);
    assert_eq!(list.matches("race@acme.test").count(), 1, "{list}");
}

async fn forms_are_guarded_and_values_escaped(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(db, &sink, "attempts_per_link = 3\nrequests_per_minute = 40");
    s.init(db);
    s.cli(
        db,
        &[
            "invite",
            "eve@acme.test",
            "--first",
            "<script>alert(1)</script>",
            "--last",
            "\"Q\"",
        ],
    );
    let url = format!(
        "{}{}",
        s.base,
        link_path(&wait_for_mail(&sink, "eve@acme.test", "/enrol/"), "/enrol/")
    );
    let c = client();
    let (_, _, body, csrf) = open_form(&c, &url).await;
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;"), "{body}");
    let (csrf, cookie) = csrf.unwrap();

    // No cookie, a wrong value, a foreign Origin: refused, and nothing changes.
    let (st, _) = post(&c, &url, "", &[("csrf", &csrf), ("answer", "decline")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(
        &c,
        &url,
        &cookie,
        &[("csrf", "0000"), ("answer", "decline")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let r = c
        .post(&url)
        .header(COOKIE, &cookie)
        .header("origin", "https://evil.test")
        .form(&[("csrf", csrf.as_str()), ("answer", "decline")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Three attempts an hour for this link: the fourth is 429, before any check.
    let (st, _) = post(&c, &url, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    let (st, _, _, _) = open_form(&c, &url).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the link still works: nothing was declined"
    );

    // A body over 32 KiB is refused whole.
    let big = "x".repeat(40 * 1024);
    let r = c
        .post(format!("{}/register", s.base))
        .header(COOKIE, &cookie)
        .form(&[("email", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.headers()["referrer-policy"],
        "no-referrer",
        "refusals carry the headers too"
    );
    assert_eq!(
        r.headers()["connection"],
        "close",
        "the unread body ends the connection, and the client is told"
    );

    // Forty requests a minute from one client; then 429 with Retry-After.
    let mut last = StatusCode::OK;
    for _ in 0..45 {
        let r = c.get(format!("{}/healthz", s.base)).send().await.unwrap();
        last = r.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

async fn self_registration_over_http(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(db, &sink, "");
    s.init(db);
    let said = s.cli(db, &["domains", "self-registration", "on"]);
    assert!(said.contains("acme.test"), "{said}");
    let c = client();
    let (_, _, body, csrf) = open_form(&c, &format!("{}/register", s.base)).await;
    assert!(body.contains("<label for=\"email\""));
    let (csrf, cookie) = csrf.unwrap();
    let reg = format!("{}/register", s.base);
    let (st, body) = post(
        &c,
        &reg,
        &cookie,
        &[("csrf", &csrf), ("email", "new@acme.test")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // The same answer for an address that cannot register: nothing to learn.
    let (_, other) = post(
        &c,
        &reg,
        &cookie,
        &[("csrf", &csrf), ("email", "x@elsewhere.test")],
    )
    .await;
    assert_eq!(
        body.replace("new@acme.test", "X"),
        other.replace("x@elsewhere.test", "X")
    );

    let mail = wait_for_mail(&sink, "new@acme.test", "/register/");
    let url = format!("{}{}", s.base, link_path(&mail, "/register/"));
    let (st, _, page, csrf) = open_form(&c, &url).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("new@acme.test"));
    assert!(!page.contains("Decline"), "nothing to decline");
    let (csrf, cookie) = csrf.unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("display_name", "Nia Wu"),
        ("password", "tawny-quarry-lemon-88"),
        ("confirm", "tawny-quarry-lemon-88"),
    ];
    let (st, body) = post(&c, &url, &cookie, &form).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let shown = s.cli(db, &["users", "show", "new@acme.test"]);
    assert!(shown.contains("active") && shown.contains("Nia"), "{shown}");
    let (st, _) = post(&c, &url, &cookie, &form).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the link works once");
}

/// HTTPS straight from PEM files: the certificate is served, HSTS is sent, the CSRF
/// cookie is `__Host-` and Secure, and plain HTTP on that port gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_from_pem_files() {
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let (s, crt) = Served::start_https(&db, &sink);
    let out = std::process::Command::new("curl")
        .args(["-sS", "-i", "--cacert"])
        .arg(&crt)
        .arg(format!("{}/register", s.base))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("200")),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.to_lowercase()
            .contains("strict-transport-security: max-age="),
        "{text}"
    );
    assert!(
        text.contains("set-cookie: __Host-usher_csrf=") && text.contains("; Secure"),
        "{text}"
    );
    let plain = s.base.replace("https://", "http://");
    let r = client().get(format!("{plain}/healthz")).send().await;
    assert!(
        r.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP is not served"
    );
}

async fn forgot_password_answers_alike_for_every_address(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(db, &sink, "");
    s.init(db);
    s.cli(db, &["users", "create", "bo@acme.test", "--first", "Bo"]);
    let c = client();
    let url = format!("{}/password/forgot", s.base);
    let (status, _, body, csrf) = open_form(&c, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<label for=\"email\""), "{body}");
    let (csrf, cookie) = csrf.unwrap();
    let ask = |who: &'static str| {
        let (c, url, cookie, csrf) = (c.clone(), url.clone(), cookie.clone(), csrf.clone());
        async move { post(&c, &url, &cookie, &[("csrf", &csrf), ("email", who)]).await }
    };
    let (st_known, known) = ask("bo@acme.test").await;
    let (st_unknown, unknown) = ask("nobody@acme.test").await;
    assert_eq!((st_known, st_unknown), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        known.replace("bo@acme.test", "X"),
        unknown.replace("nobody@acme.test", "X")
    );
    let mail = wait_for_mail(&sink, "bo@acme.test", "/password/reset/");
    assert!(mail.contains("The link works once"), "{mail}");
    assert!(
        sink.messages()
            .iter()
            .all(|(to, _)| !to.iter().any(|t| t == "nobody@acme.test"))
    );
    let (st, body) = ask("not an address").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Forged: no CSRF cookie.
    let (st, _) = post(&c, &url, "", &[("csrf", "x"), ("email", "bo@acme.test")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let path = link_path(&mail, "/password/reset/");
    let (st, _, page, _) = open_form(&c, &format!("{}{path}", s.base)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("bo@acme.test") && page.contains("autocomplete=\"new-password\""));
    let log = s.log_text();
    assert!(
        log.contains("/password/reset/…") && !log.contains(&path),
        "{log}"
    );
}
