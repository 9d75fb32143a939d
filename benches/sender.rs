//! `cargo bench --bench sender`: how fast invitations are queued and then delivered to a
//! local SMTP server (aiosmtpd) over a pool of parallel connections, on each backend.
//!
//! The invitations are queued two ways: by `invite`, 500 addresses at a time (each
//! message composed and queued whole), and by one import (which queues a mailing, and the
//! sender drafts its messages into the outbox as it goes: see `mail::mailing`).
//!
//! The sender runs at the defaults (32 connections, batches of 200). USHER_BENCH_MESSAGES
//! (default 5000), USHER_BENCH_RUNS (default 3) and USHER_BENCH_CONCURRENCY tune it;
//! PostgreSQL is measured too when USHER_TEST_POSTGRES_URL is set.
//!
//! The receiving server is Postfix's `smtp-sink` (a C test server) when installed
//! (`apt-get install postfix`); else the aiosmtpd sink of the tests, which itself tops out
//! near 420 messages/s on this machine and so caps the figure. The floor, in the same
//! run: Postfix's own client, `smtp-source`, sending as many messages of the same size
//! to the same sink over as many connections, each kept open (`-d`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::smtp::SmtpSink;
use common::{TestDb, account, invite_req};
use usher::config::{Config, Overrides};
use usher::domain::UserType;
use usher::mail::{MailTransport, Sender, SenderSettings};
use usher::store::Backend;

/// The receiving server: Postfix's smtp-sink if installed, else aiosmtpd.
enum Sink {
    Postfix {
        port: u16,
        dir: PathBuf,
        child: Child,
    },
    Aiosmtpd(SmtpSink),
}

impl Sink {
    fn start(dir: &Path) -> Self {
        let bin = Path::new("/usr/sbin/smtp-sink");
        if !bin.exists() {
            return Sink::Aiosmtpd(SmtpSink::start(dir));
        }
        std::fs::create_dir_all(dir).unwrap();
        // smtp-sink drops to `nobody`, which must be able to write the dump directory.
        let _ = Command::new("chmod").arg("777").arg(dir).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-u", "nobody", "-d"])
            .arg(format!("{}/%M.", dir.display()))
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .spawn()
            .unwrap();
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Sink::Postfix {
            port,
            dir: dir.to_owned(),
            child,
        }
    }

    fn port(&self) -> u16 {
        match self {
            Sink::Postfix { port, .. } => *port,
            Sink::Aiosmtpd(s) => s.port,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Sink::Postfix { .. } => "postfix smtp-sink",
            Sink::Aiosmtpd(_) => "aiosmtpd (caps the rate)",
        }
    }

    /// Message-IDs of everything received.
    fn message_ids(&self) -> Vec<String> {
        let texts: Vec<String> = match self {
            Sink::Postfix { dir, .. } => std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect(),
            Sink::Aiosmtpd(s) => s.messages().into_iter().map(|(_, raw)| raw).collect(),
        };
        texts
            .iter()
            .filter_map(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Message-ID: "))
                    .map(str::to_owned)
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Sink::Postfix { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How the invitations are queued.
#[derive(Clone, Copy, Debug)]
enum Via {
    Invite,
    Import,
}

/// One run: messages a second delivered by usher, and by `smtp-source` (if installed).
async fn bench(
    backend: Backend,
    n: usize,
    concurrency: Option<usize>,
    via: Via,
) -> Option<(f64, Option<f64>)> {
    let db = TestDb::open(backend).await?;
    let sink = Sink::start(&db.dir.path().join("smtp"));
    let (u, clock) = account(&db, 1).await;

    let t = Instant::now();
    match via {
        Via::Invite => {
            for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
                let addrs: Vec<String> =
                    chunk.iter().map(|i| format!("user{i}@acme.test")).collect();
                u.invite(&invite_req(&addrs.join(","), UserType::Guest))
                    .await
                    .unwrap();
            }
        }
        Via::Import => {
            let mut text = String::from("email,first name,last name,user type\n");
            for i in 0..n {
                text.push_str(&format!("user{i}@acme.test,User{i},Person,guest\n"));
            }
            let f = db.dir.path().join("users.csv");
            std::fs::write(&f, text).unwrap();
            let parsed = usher::import::parse_file(&f, &Default::default(), &[]).unwrap();
            let out = u.import_apply(&parsed, &Default::default()).await.unwrap();
            assert_eq!(out.invited, n);
        }
    }
    let queue_s = t.elapsed().as_secs_f64();

    let connections = concurrency
        .map(|c| format!("concurrency = {c}\n"))
        .unwrap_or_default();
    let toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\n{connections}\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        sink.port()
    );
    let cfg = Config::from_toml(
        &toml,
        &Overrides::default(),
        &[("USHER_DATA_DIR", "/tmp/unused")],
    )
    .unwrap();
    let sender = Sender::new(
        u.store().clone(),
        MailTransport::from_config(&cfg.mail).unwrap(),
        Arc::new(clock.clone()),
        SenderSettings::from_config(&cfg.mail),
        u.renderer(),
    )
    .unwrap();
    let t = Instant::now();
    let r = sender.flush().await.unwrap();
    let send_s = t.elapsed().as_secs_f64();
    assert_eq!(r.sent as usize, n, "every message sent: {r:?}");
    // smtp-sink writes its dump files as it goes; give the last ones a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids = sink.message_ids();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (n, n),
        "every message arrived exactly once"
    );
    let rate = n as f64 / send_s;
    let floor = smtp_source(&sink, n, cfg.mail.concurrency);
    println!(
        "{backend:<8}  {n} invitations by {via:?}  queued {:>6.0}/s  delivered {rate:>6.0}/s over {} connections to {} ({send_s:.2} s), {} arrived once each; smtp-source {}",
        n as f64 / queue_s,
        cfg.mail.concurrency,
        sink.name(),
        unique.len(),
        floor.map_or("not installed".into(), |f| format!("{f:.0}/s")),
    );
    Some((rate, floor))
}

/// Postfix's `smtp-source` sending `n` messages of the average size the sink received
/// over `sessions` connections kept open: what the sink takes from a client that waits
/// on nothing else. None when it is not installed.
fn smtp_source(sink: &Sink, n: usize, sessions: usize) -> Option<f64> {
    let bin = Path::new("/usr/sbin/smtp-source");
    let Sink::Postfix { dir, port, .. } = sink else {
        return None;
    };
    if !bin.exists() {
        return None;
    }
    let bytes: u64 = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let size = (bytes / n.max(1) as u64).max(100);
    let t = Instant::now();
    let ok = Command::new(bin)
        .args(["-d", "-s", &sessions.to_string(), "-m", &n.to_string()])
        .args([
            "-l",
            &size.to_string(),
            "-f",
            "it@acme.test",
            "-t",
            "user@acme.test",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .status()
        .ok()?
        .success();
    ok.then(|| n as f64 / t.elapsed().as_secs_f64())
}

/// The median and the worst (lowest) of some rates.
fn median_and_worst(rates: &mut [f64]) -> (f64, f64) {
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[0])
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (n, runs) = if quick {
        (200, 1)
    } else {
        (
            common::env_or::<usize>("USHER_BENCH_MESSAGES", 5000),
            common::env_or::<usize>("USHER_BENCH_RUNS", 3).max(1),
        )
    };
    let concurrency = std::env::var("USHER_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for via in [Via::Invite, Via::Import] {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let mut usher = Vec::new();
                let mut floor = Vec::new();
                for _ in 0..runs {
                    let Some((rate, f)) = bench(backend, n, concurrency, via).await else {
                        println!("{backend:<8}  skipped (set USHER_TEST_POSTGRES_URL)");
                        break;
                    };
                    usher.push(rate);
                    floor.extend(f);
                }
                if usher.is_empty() {
                    continue;
                }
                let (median, worst) = median_and_worst(&mut usher);
                let floor = if floor.is_empty() {
                    String::from("no smtp-source")
                } else {
                    let (f_median, f_worst) = median_and_worst(&mut floor);
                    format!("smtp-source median {f_median:.0}/s, worst {f_worst:.0}/s")
                };
                println!(
                    "{backend:<8}  by {via:?}, {} run(s): median {median:.0}/s, worst {worst:.0}/s; {floor}",
                    usher.len()
                );
            }
        }
    });
}
