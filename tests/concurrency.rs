//! Several usher processes writing one database at once (issue 8), on both backends: two
//! admins importing overlapping files, and a mix of invites, imports and senders. Nothing
//! fails for being second, nothing is done twice, and the audit chain holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/checks.rs"]
mod checks;
#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Output;

use checks::{apply, apply_args, consistent, snapshot, users_csv};
use common::TestDb;
use common::smtp::SmtpSink;

on_both_backends!(
    two_admins_importing_overlapping_files_invite_each_address_once,
    two_admins_applying_racing_previews_one_is_refused_and_told_why,
    several_processes_writing_at_once_all_succeed_and_the_chain_holds,
    four_sender_processes_drain_thousands_each_sent_once,
);

/// The account, and a second administrator beside the first.
fn two_admins(db: &TestDb) {
    cli::init(db, "10000");
    cli::ok(db, &["users", "create", "boss@acme.test", "--first", "Bo"]);
    cli::ok(db, &["grant", "boss@acme.test", "Administrator"]);
}

/// Runs `args` as `operator`, in a thread of its own.
fn spawn_as(db: &TestDb, operator: &str, args: Vec<String>) -> std::thread::JoinHandle<Output> {
    let mut cmd = cli::usher(db);
    cmd.env("USHER_OPERATOR", operator).args(args);
    std::thread::spawn(move || cmd.output().unwrap())
}

/// Every invitation's address, checked to be there once.
fn invited_once(db: &TestDb) -> HashSet<String> {
    let list = cli::json(db, &["invitations", "list", "--limit", "0", "--json"]);
    let emails: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_owned())
        .collect();
    let set: HashSet<String> = emails.iter().cloned().collect();
    assert_eq!(set.len(), emails.len(), "an address invited twice");
    set
}

async fn two_admins_importing_overlapping_files_invite_each_address_once(db: &TestDb) {
    two_admins(db);
    // 1,000 addresses in both files.
    let a = users_csv(db.dir.path(), "a.csv", 0..3000);
    let b = users_csv(db.dir.path(), "b.csv", 2000..5000);
    let one = spawn_as(db, "admin@acme.test", apply_args(&a, None));
    let two = spawn_as(db, "boss@acme.test", apply_args(&b, None));
    for out in [one.join().unwrap(), two.join().unwrap()] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let s = snapshot(db);
    assert_eq!(s.pending, 5000);
    assert_eq!(s.queued, 5000, "one invitation mail per address");
    assert_eq!(s.batches, 2);
    assert_eq!(invited_once(db).len(), 5000);
    consistent(db);
}

async fn two_admins_applying_racing_previews_one_is_refused_and_told_why(db: &TestDb) {
    two_admins(db);
    let a = users_csv(db.dir.path(), "a.csv", 0..3000);
    let b = users_csv(db.dir.path(), "b.csv", 2000..5000);
    let digest = |f: &Path| {
        cli::json(db, &["import", f.to_str().unwrap(), "--json"])["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Both preview the same account, then both apply what they saw.
    let (da, dbb) = (digest(&a), digest(&b));
    let one = spawn_as(db, "admin@acme.test", apply_args(&a, Some(&da)));
    let two = spawn_as(db, "boss@acme.test", apply_args(&b, Some(&dbb)));
    let outs = [one.join().unwrap(), two.join().unwrap()];
    let won: Vec<bool> = outs.iter().map(|o| o.status.success()).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "exactly one applies");
    let loser = outs.iter().find(|o| !o.status.success()).unwrap();
    let said = String::from_utf8_lossy(&loser.stderr);
    assert!(
        said.contains("changed since the preview") && said.contains("nothing was applied"),
        "{said}"
    );
    // The database holds the winner's file and nothing of the loser's.
    let (winner, loser_file) = if won[0] { (&a, &b) } else { (&b, &a) };
    let s = snapshot(db);
    assert_eq!(s.pending, 3000);
    assert_eq!(s.batches, 1);
    let winner_rows: HashSet<String> = std::fs::read_to_string(winner)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(invited_once(db), winner_rows);
    consistent(db);

    // The loser previews again (1,000 already pending now) and applies that.
    let again = digest(loser_file);
    apply(db, loser_file, Some(&again));
    assert_eq!(snapshot(db).pending, 5000);
    assert_eq!(invited_once(db).len(), 5000);
    consistent(db);
}

/// Runs the commands one after another, on a thread of their own.
fn in_turn(cmds: Vec<std::process::Command>) -> std::thread::JoinHandle<Vec<Output>> {
    std::thread::spawn(move || cmds.into_iter().map(|mut c| c.output().unwrap()).collect())
}

async fn several_processes_writing_at_once_all_succeed_and_the_chain_holds(db: &TestDb) {
    two_admins(db);
    let mut jobs = Vec::new();
    // Four inviters, ten processes each, one after another.
    for p in 0..4 {
        let mut cmds = Vec::new();
        for i in 0..10 {
            let mut c = cli::usher(db);
            c.args(["invite", &format!("w{p}x{i}@acme.test"), "--no-send"]);
            cmds.push(c);
        }
        jobs.push(in_turn(cmds));
    }
    // An importer, three files of 200.
    let mut cmds = Vec::new();
    for f in 0..3 {
        let file = users_csv(db.dir.path(), &format!("i{f}.csv"), f * 200..(f + 1) * 200);
        let mut c = cli::usher(db);
        c.env("USHER_OPERATOR", "boss@acme.test")
            .args(apply_args(&file, None));
        cmds.push(c);
    }
    jobs.push(in_turn(cmds));
    // And a sender delivering to the local outbox directory all the while.
    let mut cmds = Vec::new();
    for _ in 0..5 {
        let mut c = cli::usher(db);
        c.args(["outbox", "flush"]);
        cmds.push(c);
    }
    jobs.push(in_turn(cmds));
    let mut runs = 0;
    for j in jobs {
        for out in j.join().unwrap() {
            runs += 1;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert_eq!(runs, 48);
    let s = snapshot(db);
    assert_eq!(s.pending, 40 + 600);
    assert_eq!(invited_once(db).len(), 640);
    consistent(db);
}

/// Invitations four `usher outbox flush` processes share.
const DRAIN: usize = 2000;

async fn four_sender_processes_drain_thousands_each_sent_once(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    cli::init(db, "10");
    let file = users_csv(db.dir.path(), "many.csv", 0..DRAIN);
    // Guests: no licences needed for two thousand.
    let mut args = apply_args(&file, None);
    args.push("--as-guests".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli::ok(db, &args);
    assert_eq!(snapshot(db).queued, DRAIN as i64);
    let cfg = db.dir.path().join("smtp.toml");
    std::fs::write(
        &cfg,
        format!(
            "[mail]\ntransport = \"smtp\"\nconcurrency = 4\nbatch_size = 50\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            sink.port
        ),
    )
    .unwrap();
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let mut c = cli::usher(db);
            c.env("USHER_CONFIG", &cfg)
                .args(["outbox", "flush", "--json"]);
            std::thread::spawn(move || c.output().unwrap())
        })
        .collect();
    let mut shares = Vec::new();
    for s in senders {
        let out = s.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        shares.push(r["sent"].as_u64().unwrap());
    }
    eprintln!("each sender's share: {shares:?}");
    assert_eq!(shares.iter().sum::<u64>(), DRAIN as u64, "{shares:?}");
    assert!(
        shares.iter().filter(|n| **n > 0).count() >= 2,
        "the senders shared the work: {shares:?}"
    );
    let mut seen = HashSet::new();
    let msgs = sink.messages();
    for (to, _) in &msgs {
        assert!(seen.insert(to.join(",")), "{to:?} twice");
    }
    assert_eq!(msgs.len(), DRAIN);
    assert_eq!(snapshot(db).queued, 0);
    consistent(db);
}
