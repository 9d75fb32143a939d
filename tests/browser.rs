//! The invitee's whole journey in a real browser (Debian's headless Chromium through
//! ChromeDriver): the invitation read from a real SMTP server, the link opened, the form
//! filled and submitted, the user found active and the inviter's notice delivered. A
//! screenshot of each page is kept under target/tmp/screenshots.
//!
//! Skipped when chromedriver is not installed, unless USHER_TEST_BROWSER=1 (CI sets it),
//! which makes a missing browser a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use common::TestDb;
use common::smtp::SmtpSink;
use server::{Served, link_path, wait_for_mail};

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// ChromeDriver on a free port, killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(bin: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    // Held by the Driver at once, so that it is killed and waited for however the test ends.
    let driver = Driver(
        Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        port,
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let mut chrome = serde_json::json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=900,1000"]
    });
    if let Some(bin) = find_on_path("chromium") {
        chrome["binary"] = serde_json::json!(bin);
    }
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a Chromium session")
}

struct Shots(PathBuf);

impl Shots {
    async fn take(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = self.0.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

async fn fill(c: &Client, id: &str, text: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Waits for the page's heading to read `want`. After a click the old page's heading can
/// still be found, and go stale while it is read, so a mismatch or a stale element is
/// read again until the new page is there (10 s at most); a wrong page still fails.
async fn expect_heading(c: &Client, want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(h) = c.find(Locator::Css("h1")).await
            && let Ok(text) = h.text().await
        {
            if text == want {
                return;
            }
            last = text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the heading is {last:?}, not {want:?}: {}",
        c.source().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitee_enrols_in_a_real_browser() {
    let Some(bin) = find_on_path("chromedriver") else {
        assert!(
            std::env::var("USHER_TEST_BROWSER").is_err(),
            "USHER_TEST_BROWSER is set but chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver)");
        return;
    };
    let shots = Shots(Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&shots.0).unwrap();
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    let s = Served::start(&db, &sink, "");
    s.cli(
        &db,
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
    s.cli(
        &db,
        &["invite", "ann@acme.test", "--first", "Ann", "--last", "Lee"],
    );
    let mail = wait_for_mail(&sink, "ann@acme.test", "/enrol/");
    let link = format!("{}{}", s.base, link_path(&mail, "/enrol/"));

    let driver = start_driver(&bin);
    let c = browser(&driver).await;
    c.goto(&link).await.unwrap();
    expect_heading(&c, "Your invitation").await;
    shots.take(&c, "1-invitation").await;

    // A common password first: the page says why, and keeps the name.
    fill(&c, "display_name", "Ann Lee").await;
    fill(&c, "password", "password1234").await;
    fill(&c, "confirm", "password1234").await;
    c.find(Locator::Css("button[value=accept]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let alert = match c.wait().for_element(Locator::Css("[role=alert]")).await {
        Ok(e) => e,
        Err(e) => panic!("{e}: {}", c.source().await.unwrap_or_default()),
    };
    let alert = alert.text().await.unwrap();
    assert!(alert.contains("commonly used"), "{alert}");
    shots.take(&c, "2-refused").await;

    fill(&c, "password", "tawny-quarry-lemon-88").await;
    fill(&c, "confirm", "tawny-quarry-lemon-88").await;
    c.find(Locator::Id("personal_mailbox"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shots.take(&c, "3-filled").await;
    c.find(Locator::Css("button[value=accept]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_heading(&c, "Your account is ready").await;
    shots.take(&c, "4-ready").await;

    // The same link again: the one page for links that cannot be used.
    c.goto(&link).await.unwrap();
    expect_heading(&c, "This link cannot be used").await;
    shots.take(&c, "5-used-link").await;
    c.close().await.unwrap();

    let shown = s.cli(&db, &["users", "show", "ann@acme.test"]);
    assert!(
        shown.contains("active") && shown.contains("Owner on ann@acme.test"),
        "{shown}"
    );
    let note = wait_for_mail(&sink, "admin@acme.test", "has accepted");
    assert!(note.contains("ann@acme.test"), "{note}");
}
