//! `usher serve` under the attacks it was once open to: hundreds of connections sending
//! their headers a byte at a time, an idle keep-alive connection kept for ever, a CSRF
//! cookie set by hand, and posts that drew the framework's own words instead of the site's
//! page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/server.rs"]
mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use common::TestDb;
use common::smtp::SmtpSink;
use server::{Served, link_path, wait_for_mail};

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn addr(s: &Served) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().unwrap()
}

/// A connection from `from` (any address on the loopback network) to the server.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::from((from, 0))).ok()?;
    socket.connect(to).await.ok()
}

/// Whether the server has closed `c`: a read ends (or fails) at once instead of waiting.
async fn closed(c: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(Duration::from_millis(20), c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An answer (408, or a refusal) may come first; the close follows.
            Ok(Ok(_)) => {}
        }
    }
}

/// 600 connections from one client, each sending a request line and then a header byte
/// every two seconds, under a limit of 512 open files: a request from another client is
/// answered at once, the slow client holds no more than its share, and every slow
/// connection is closed at the header deadline though it is still sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_from_hundreds_of_connections_starve_no_one() {
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start_limited(&db, &sink, "http://127.0.0.1", "", Some(512));
    let to = addr(&s);
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..600 {
        if let Some(mut c) = connect_from([127, 0, 0, 2], to).await
            && c.write_all(b"GET /healthz HTTP/1.1\r\n").await.is_ok()
        {
            slow.push(c);
        }
    }
    assert!(
        slow.len() >= 500,
        "the kernel took the connections: {}",
        slow.len()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    let asked = Instant::now();
    let r = client().get(format!("{}/healthz", s.base)).send().await;
    let waited = asked.elapsed();
    assert_eq!(r.map(|r| r.status()).ok(), Some(StatusCode::OK));
    assert!(waited < Duration::from_secs(3), "answered in {waited:?}");

    let mut held = Vec::new();
    for mut c in slow {
        if !closed(&mut c).await {
            held.push(c);
        }
    }
    assert!(
        !held.is_empty() && held.len() <= 64,
        "one client holds at most 64 connections: {}",
        held.len()
    );
    // They keep sending, a byte every two seconds; the deadline closes them all the same.
    while started.elapsed() < Duration::from_secs(25) && !held.is_empty() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut still = Vec::new();
        for mut c in held {
            if c.write_all(b"X").await.is_ok() && !closed(&mut c).await {
                still.push(c);
            }
        }
        held = still;
    }
    assert!(
        held.is_empty(),
        "{} slow connection(s) still open after {:?}",
        held.len(),
        started.elapsed()
    );
    let r = client().get(format!("{}/healthz", s.base)).send().await;
    assert_eq!(r.map(|r| r.status()).ok(), Some(StatusCode::OK));
}

/// A keep-alive connection that asks once and then says nothing is closed at the header
/// deadline, not kept for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(&db, &sink, "");
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(20), c.read(&mut buf)).await;
    assert!(
        matches!(end, Ok(Ok(0) | Err(_))),
        "closed after {:?}: {end:?}",
        idle.elapsed()
    );
    assert!(
        idle.elapsed() >= Duration::from_secs(5),
        "not before the deadline"
    );
}

/// The invitation's form, its CSRF value and the cookie header that carries it.
async fn open_form(c: &Client, url: &str) -> (String, String) {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let kv = r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (kv.split_once('=').unwrap().1.to_owned(), kv)
}

/// A cookie the server did not issue is refused even when the field matches it; posts that
/// are not forms, or repeat a field, or use a method the page lacks get the site's page,
/// and none of them changes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_cookies_and_mangled_posts_get_the_sites_page() {
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(&db, &sink, "attempts_per_link = 50");
    s.init(&db);
    s.cli(&db, &["invite", "eve@acme.test", "--first", "Eve"]);
    let path = link_path(&wait_for_mail(&sink, "eve@acme.test", "/enrol/"), "/enrol/");
    let url = format!("{}{path}", s.base);
    let c = client();
    let (csrf, cookie) = open_form(&c, &url).await;

    for value in ["aaaa", "aaaa.bbbb", csrf.split('.').next().unwrap()] {
        let r = c
            .post(&url)
            .header(COOKIE, format!("usher_csrf={value}"))
            .form(&[("csrf", value), ("answer", "decline")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{value}");
        assert!(r.text().await.unwrap().contains("This form has expired"));
    }

    let framework = ["Content-Type", "deserialize", "duplicate field", "Failed"];
    let not_form = c
        .post(&url)
        .header(COOKIE, &cookie)
        .header("content-type", "application/json")
        .body(format!("{{\"csrf\":\"{csrf}\",\"answer\":\"decline\"}}"))
        .send()
        .await
        .unwrap();
    let twice = c
        .post(&url)
        .header(COOKIE, &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&csrf={csrf}&answer=decline"))
        .send()
        .await
        .unwrap();
    let put = c
        .put(&url)
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("answer", "decline")])
        .send()
        .await
        .unwrap();
    for (r, status) in [
        (not_form, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (twice, StatusCode::UNPROCESSABLE_ENTITY),
        (put, StatusCode::METHOD_NOT_ALLOWED),
    ] {
        assert_eq!(r.status(), status);
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{status}: {kind}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("<html") && body.contains("usher.css"),
            "{body}"
        );
        for words in framework {
            assert!(!body.contains(words), "{status}: {body}");
        }
    }

    // Nothing was declined: the link still opens its form.
    open_form(&c, &url).await;
}

/// Over HTTPS: a connection that never starts its handshake is closed at the handshake
/// deadline, and one that finishes it and then sends its headers a byte at a time is
/// closed at the header deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_over_tls_are_closed_too() {
    use std::io::Write;
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let (s, _) = Served::start_https(&db, &sink);
    let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let to = SocketAddr::from(([127, 0, 0, 1], port));

    let mut silent = TcpStream::connect(to).await.unwrap();
    let mut tls = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(to.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    let mut input = tls.stdin.take().unwrap();
    input.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let end = tokio::time::timeout(Duration::from_secs(20), silent.read(&mut buf)).await;
    assert!(matches!(end, Ok(Ok(0) | Err(_))), "no handshake: {end:?}");
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(25) && exited.is_none() {
        let _ = input.write_all(b"X").and_then(|()| input.flush());
        tokio::time::sleep(Duration::from_secs(2)).await;
        exited = tls.try_wait().unwrap();
    }
    let _ = tls.kill();
    let _ = tls.wait();
    assert!(
        exited.is_some(),
        "a TLS client trickling its headers was still connected after {:?}",
        started.elapsed()
    );
}
