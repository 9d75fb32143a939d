//! `cargo bench --bench startup`: `usher status` as a sysadmin runs it, a process from
//! start to exit, beside its floor in the same run: the same queries through the
//! database's own client (`sqlite3` on the SQLite file, `psql` on PostgreSQL, which
//! connects with TLS when the server offers it, as usher does). Each round times 20 of
//! each, alternating, and compares the medians; USHER_BENCH_RUNS rounds (default 3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use common::TestDb;
use usher::store::Backend;

/// What `usher status` asks, in order: the migrations applied, the system roles, the
/// audit chain's start, then the account and its counts in one transaction (PostgreSQL
/// first asks who is connected).
const QUERIES: &str = "
SELECT version, checksum, success FROM _sqlx_migrations;
SELECT COUNT(*) * 7 - (SELECT COUNT(*) FROM roles WHERE system) FROM accounts;
SELECT started_at FROM audit_chain WHERE id = 1;
BEGIN;
SELECT id, name, licences, invite_validity_days, invitations_enabled, created_at,
    self_registration FROM accounts ORDER BY id;
SELECT COUNT(*) FROM users WHERE account_id = 1 AND user_type = 'professional'
    AND status = 'active';
SELECT COUNT(*) FROM invitations WHERE account_id = 1 AND status = 'pending'
    AND user_type = 'professional' AND expires_at > 1796604434638;
SELECT COUNT(*) FROM users WHERE account_id = 1;
SELECT COUNT(*) FROM invitations WHERE account_id = 1 AND status = 'pending'
    AND expires_at > 1796604434638;
SELECT state, COUNT(*) FROM outbox WHERE account_id = 1 GROUP BY state;
SELECT CAST(COALESCE(SUM((SELECT COUNT(*) FROM invitations i
    WHERE i.id >= b.next_invitation AND i.id <= b.last_invitation
    AND i.import_batch_id = b.import_batch_id AND i.awaiting_draft)), 0) AS BIGINT)
    FROM draft_bases b WHERE b.account_id = 1 AND b.next_invitation IS NOT NULL;
COMMIT;
";

const WHO: &str = "SELECT session_user::text, COALESCE(session_user::text = \
    (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = to_regclass('accounts')), \
    TRUE) OR COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), FALSE);";

/// Milliseconds from spawn to exit; panics if the command fails.
fn run(cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let out = cmd.stdout(Stdio::null()).output().unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ms
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The usher command and the floor's for this database.
fn commands(db: &TestDb, dir: &std::path::Path) -> (Command, Command) {
    let mut usher = Command::new(env!("CARGO_BIN_EXE_usher"));
    usher
        .env("USHER_DATA_DIR", dir.join("data"))
        .env_remove("USHER_CONFIG")
        .args(["--database-url", &db.url, "status"]);
    let floor = match db.backend {
        Backend::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.arg(db.url.trim_start_matches("sqlite://"))
                .arg(format!(".read {}", dir.join("status.sql").display()));
            c
        }
        Backend::Postgres => {
            let (base, schema) = db.url.split_once("?options[search_path]=").unwrap();
            let mut c = Command::new("psql");
            c.env("PGOPTIONS", format!("-c search_path={schema}"))
                .args([base, "-q", "-v", "ON_ERROR_STOP=1", "-f"])
                .arg(dir.join("status.sql"));
            c
        }
    };
    (usher, floor)
}

async fn bench(backend: Backend, rounds: usize, each: usize) -> Option<()> {
    let db = TestDb::open(backend).await?;
    let (_u, _clock) = common::account(&db, 10).await;
    let dir = db.dir.path();
    let sql = match backend {
        Backend::Sqlite => QUERIES.to_owned(),
        Backend::Postgres => format!("{WHO}\n{QUERIES}"),
    };
    std::fs::write(dir.join("status.sql"), sql).unwrap();
    let (mut usher, mut floor) = commands(&db, dir);
    // Once each, untimed: the binary and the database's files into the page cache.
    run(&mut usher);
    run(&mut floor);
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let (mut u, mut f) = (Vec::new(), Vec::new());
        for _ in 0..each {
            u.push(run(&mut usher));
            f.push(run(&mut floor));
        }
        let (um, fm) = (median(&mut u), median(&mut f));
        ratios.push(um / fm);
        println!(
            "{backend:<8} round {round}: usher status median {um:.1} ms (worst {:.1}), {} median {fm:.1} ms: {:.2}x",
            u[u.len() - 1],
            if backend == Backend::Sqlite {
                "sqlite3"
            } else {
                "psql"
            },
            um / fm
        );
    }
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "{backend:<8} {rounds} rounds: usher / floor median {:.2}x, worst {worst:.2}x",
        median(&mut ratios)
    );
    Some(())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (rounds, each) = if quick {
        (1, 2)
    } else {
        (common::env_or("USHER_BENCH_RUNS", 3usize).max(1), 20)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if bench(backend, rounds, each).await.is_none() {
                println!("{backend:<8} skipped (set USHER_TEST_POSTGRES_URL)");
            }
        }
    });
}
