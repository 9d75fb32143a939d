//! usher killed (`kill -9`) and the database crashed and restarted, in the middle of an
//! import and of a send (issue 8). After each: the import left nothing behind, or all of
//! it; no invitation is lost; a message sent twice carries one Message-ID; the audit
//! chain holds and agrees with what is in the database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/checks.rs"]
mod checks;
#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/pg_cluster.rs"]
mod pg_cluster;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use checks::{apply, consistent, snapshot, users_csv};
use common::TestDb;
use common::smtp::SmtpSink;
use pg_cluster::Cluster;
use usher::store::Backend;

on_both_backends!(
    kill_9_while_an_import_applies_leaves_nothing_behind,
    kill_9_while_sending_loses_nothing_and_keeps_message_ids,
    a_sender_that_cannot_record_stops_at_one_message_per_connection,
);

/// Rows in the file killed mid-apply: enough that the kill lands well inside the write.
const ROWS: usize = 30_000;
/// Invitations the sender is killed among, with the default 32 connections (as the
/// attacker's trial had it), and those the database is crashed among.
const MESSAGES: usize = 2_000;
const CRASH_MESSAGES: usize = 60;
/// The sender's default number of connections: the bound on messages in doubt at a kill.
const CONNECTIONS: usize = 32;

/// Lines of a child's stderr, as they come.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a stderr line that `want` accepts; panics after two minutes.
fn wait_for_line(rx: &mpsc::Receiver<String>, want: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) if want(&l) => return l,
            Ok(l) => seen.push(l),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("no such line; stderr was:\n{}", seen.join("\n"));
}

/// "import applying 10000/30000" with at least `at` rows done and more to go.
fn applying_past(line: &str, at: u64) -> bool {
    line.split("import applying ")
        .nth(1)
        .and_then(|r| r.trim().split_once('/'))
        .and_then(|(d, t)| Some((d.parse::<u64>().ok()?, t.parse::<u64>().ok()?)))
        .is_some_and(|(d, t)| d >= at && d < t)
}

/// `usher import FILE --apply --yes`, logging its progress, started in the background.
fn start_apply(db: &TestDb, file: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = cli::usher(db)
        .args(["import"])
        .arg(file)
        .args(["--apply", "--yes", "--no-send"])
        .env("USHER_LOG", "warn,usher=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    (child, rx)
}

async fn kill_9_while_an_import_applies_leaves_nothing_behind(db: &TestDb) {
    cli::init(db, "100000");
    let first = users_csv(db.dir.path(), "first.csv", 0..100);
    apply(db, &first, None);
    let before = snapshot(db);
    assert_eq!(before.pending, 100);

    let big = users_csv(db.dir.path(), "big.csv", 100..100 + ROWS);
    let (mut child, rx) = start_apply(db, &big);
    wait_for_line(&rx, |l| applying_past(l, 10_000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still applying when killed"
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no rollback of its own
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal, not exited");

    // The same as before, to the row, and the audit log agrees.
    assert_eq!(snapshot(db), before);
    consistent(db);

    // And the import goes through when run again.
    apply(db, &big, None);
    let after = snapshot(db);
    assert_eq!(after.pending, before.pending + ROWS as i64);
    assert_eq!(after.batches, before.batches + 1);
    consistent(db);
}

/// A config sending through `sink` with the default connections and batch, and a
/// five-second lease; `extra` adds to its [mail] section.
fn smtp_config(db: &TestDb, sink: &SmtpSink, extra: &str) -> PathBuf {
    let cfg = db.dir.path().join("smtp.toml");
    std::fs::write(
        &cfg,
        format!(
            "[mail]\ntransport = \"smtp\"\n{extra}\nlease_seconds = 5\n\
             retry_base_seconds = 1\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            sink.port
        ),
    )
    .unwrap();
    cfg
}

fn flush(db: &TestDb, cfg: &Path) -> Command {
    let mut c = cli::usher(db);
    c.env("USHER_CONFIG", cfg).args(["outbox", "flush"]);
    c
}

/// Queues `n` invitations (an import that sends nothing yet).
fn queue_invitations(db: &TestDb, n: usize) {
    cli::init(db, "5000");
    let file = users_csv(db.dir.path(), "send.csv", 0..n);
    apply(db, &file, None);
    assert_eq!(snapshot(db).queued, n as i64);
}

/// Every one of the `n` queued messages arrived, each recipient's copies carry one
/// Message-ID, and the outbox says sent. Returns how many arrived twice.
fn all_arrived_once_or_same_id(db: &TestDb, sink: &SmtpSink, n: usize) -> usize {
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for (to, raw) in sink.messages() {
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap()
            .to_owned();
        ids.entry(to.join(",")).or_default().push(id);
    }
    assert_eq!(ids.len(), n, "every invitation arrived");
    for (to, copies) in &ids {
        assert!(
            copies.iter().all(|c| *c == copies[0]),
            "{to}: copies with different Message-IDs {copies:?}"
        );
    }
    let out = cli::json(db, &["outbox", "list", "--json", "--limit", "5000"]);
    let by_id: HashMap<&str, &str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["message_id"].as_str().unwrap(),
                m["state"].as_str().unwrap(),
            )
        })
        .collect();
    for copies in ids.values() {
        let id = copies[0].trim_matches(['<', '>']);
        let state = by_id
            .iter()
            .find(|(k, _)| k.trim_matches(['<', '>']) == id)
            .map(|(_, s)| *s);
        assert_eq!(state, Some("sent"), "{id}");
    }
    ids.values().filter(|c| c.len() > 1).count()
}

/// Waits until the sink holds `n` messages (the sender is well under way).
fn wait_for_mail(sink: &SmtpSink, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < n {
        assert!(Instant::now() < deadline, "the sender never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs flushes until the outbox is empty, waiting out leases held by a dead sender.
fn drain(db: &TestDb, cfg: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = flush(db, cfg).output().unwrap();
        assert!(
            out.status.success(),
            "flush: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if snapshot(db).queued == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "mail still queued after a minute"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

async fn kill_9_while_sending_loses_nothing_and_keeps_message_ids(db: &TestDb) {
    // The relay stores each message and then waits before its 250: every message on a
    // connection at the kill is in doubt, the worst case for duplicates.
    let sink = SmtpSink::start_with(
        &db.dir.path().join("smtp"),
        0,
        &["--delay-ms", "100", "--store-first"],
    );
    queue_invitations(db, MESSAGES);
    let cfg = smtp_config(db, &sink, "");
    let mut child = flush(db, &cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_mail(&sink, 200);
    assert!(
        child.try_wait().unwrap().is_none(),
        "still sending when killed"
    );
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().code(), None);
    let sent_before_kill = sink.messages().len();
    assert!(sent_before_kill < MESSAGES, "killed mid-send");
    assert!(snapshot(db).queued > 0);

    drain(db, &cfg);
    let twice = all_arrived_once_or_same_id(db, &sink, MESSAGES);
    // Only what was in flight at the kill can go twice: at most one message per connection,
    // the one whose 250 the relay sent as the sender died.
    eprintln!("sent before the kill: {sent_before_kill}; sent twice: {twice}");
    assert!(
        (1..=CONNECTIONS).contains(&twice),
        "{twice} sent twice over {CONNECTIONS} connections (some were in doubt at the kill)"
    );
    consistent(db);
}

/// Holds the outbox's write lock (a transaction left open) so that no result can be
/// recorded, and reads how many messages are recorded as sent. Dropping it lets go.
async fn hold_outbox(db: &TestDb) -> (Box<dyn std::any::Any>, i64) {
    use sqlx::Connection;
    let count = "SELECT count(*) FROM outbox WHERE state = 'sent'";
    match db.backend {
        Backend::Sqlite => {
            // The command line's file (`cli::usher` sets its data directory).
            let file = db.dir.path().join("data/usher.db");
            let url = format!("sqlite://{}", file.display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .unwrap();
            let sent: i64 = sqlx::query_scalar(count).fetch_one(&mut c).await.unwrap();
            (Box::new(c), sent)
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            let sent: i64 = sqlx::query_scalar(count).fetch_one(&mut c).await.unwrap();
            (Box::new(c), sent)
        }
    }
}

async fn a_sender_that_cannot_record_stops_at_one_message_per_connection(db: &TestDb) {
    // The bound above holds because a connection takes its next message only once its last
    // result is recorded: with the database's write lock held for a while, the sender
    // stalls with at most one message per connection sent and not recorded.
    const SLOTS: usize = 4;
    let sink = SmtpSink::start_with(&db.dir.path().join("smtp"), 0, &["--delay-ms", "10"]);
    queue_invitations(db, 400);
    let cfg = smtp_config(db, &sink, &format!("concurrency = {SLOTS}"));
    let mut child = flush(db, &cfg).stdout(Stdio::null()).spawn().unwrap();
    wait_for_mail(&sink, 20);
    let (lock, recorded) = hold_outbox(db).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let arrived = sink.messages().len();
    drop(lock);
    eprintln!("recorded {recorded}, arrived {arrived} while the outbox was locked");
    assert!(
        arrived - usize::try_from(recorded).unwrap() <= SLOTS,
        "{arrived} arrived with {recorded} recorded, over {SLOTS} connections"
    );
    assert!(child.wait().unwrap().success());
    assert_eq!(all_arrived_once_or_same_id(db, &sink, 400), 0);
}

/// A database on a PostgreSQL server of the test's own, which it may crash.
fn cluster_db() -> Option<(Cluster, TestDb)> {
    let c = Cluster::start()?;
    let db = TestDb::at(c.url(), Backend::Postgres);
    Some((c, db))
}

#[test]
fn the_database_crashing_while_an_import_applies_leaves_nothing_behind() {
    let Some((cluster, db)) = cluster_db() else {
        return;
    };
    cli::init(&db, "100000");
    let before = snapshot(&db);
    let big = users_csv(db.dir.path(), "big.csv", 0..ROWS);
    let (mut child, rx) = start_apply(&db, &big);
    wait_for_line(&rx, |l| applying_past(l, 10_000));
    cluster.crash();
    cluster.up();
    let status = child.wait().unwrap();
    let said: Vec<String> = rx.try_iter().collect();
    assert!(!status.success(), "the import failed: {said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("lost the connection to the database")),
        "{said:?}"
    );
    assert_eq!(snapshot(&db), before, "nothing of it was saved");
    consistent(&db);
    apply(&db, &big, None);
    assert_eq!(snapshot(&db).pending, ROWS as i64);
    consistent(&db);
}

#[test]
fn the_database_crashing_while_sending_loses_nothing_and_sends_once() {
    let Some((cluster, db)) = cluster_db() else {
        return;
    };
    let sink = SmtpSink::start_with(&db.dir.path().join("smtp"), 0, &["--delay-ms", "100"]);
    queue_invitations(&db, CRASH_MESSAGES);
    let cfg = smtp_config(&db, &sink, "concurrency = 4\nbatch_size = 8");
    let mut child = flush(&db, &cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    wait_for_mail(&sink, 12);
    cluster.crash();
    std::thread::sleep(Duration::from_millis(500));
    cluster.up();
    let status = child.wait().unwrap();
    let said: Vec<String> = rx.try_iter().collect();
    assert!(
        status.success(),
        "the sender rode out the restart: {said:?}"
    );
    // The server told the sender's connections it was going down (a notice sqlx logs);
    // the pool replaced them once it was back.
    assert!(
        said.iter()
            .any(|l| l.contains("terminating connection") || l.contains("lost the connection")),
        "the restart reached the sender: {said:?}"
    );
    drain(&db, &cfg);
    let twice = all_arrived_once_or_same_id(&db, &sink, CRASH_MESSAGES);
    assert_eq!(twice, 0, "results are recorded once the database is back");
    consistent(&db);
}
