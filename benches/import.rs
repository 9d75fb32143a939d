//! `cargo bench --bench import`: reading, previewing, applying and undoing an import of
//! USHER_BENCH_ROWS new users (default 100,000) on each backend, with peak memory, beside
//! the database's own loader: the measure of the import issue's million-row targets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::time::Instant;

use common::{TestDb, account};
use usher::service::ApplyOptions;
use usher::store::Backend;

fn peak_rss_mib() -> f64 {
    common::proc_status_mib("VmHWM:")
}

/// The database's own bulk loader on the same file into the same table and indexes
/// (sqlite3 `.import`, psql `\copy`), then one INSERT ... SELECT into the invitations:
/// the floor that usher's apply is measured against. Its token keys are ordered as usher's
/// are (a stamp, then a hash: see `domain::token`). None when the tool is missing.
async fn floor(backend: Backend, csv: &std::path::Path) -> Option<f64> {
    let db = TestDb::open(backend).await?;
    let (_u, _clock) = account(&db, 10).await;
    let account: i64 = 1;
    let insert = |token: &str| {
        format!(
            "INSERT INTO invitations (account_id, email, email_display, first_name, last_name,
                user_type, inviter, token_hash, status, created_at, expires_at)
             SELECT {account}, email, email, first_name, last_name, 'professional', 'bench',
                {token}, 'pending', 0, 1 FROM staging;"
        )
    };
    let script = match backend {
        Backend::Sqlite => format!(
            "PRAGMA synchronous = NORMAL;\nPRAGMA cache_size = -32768;\n\
             CREATE TEMP TABLE staging (unique_ref TEXT, email TEXT, first_name TEXT, last_name TEXT);\n\
             .import --csv --skip 1 {} staging\n{}\n",
            csv.display(),
            insert("printf('%012x', rowid) || lower(hex(randomblob(32)))")
        ),
        Backend::Postgres => format!(
            "BEGIN;\n\
             CREATE TEMP TABLE staging (unique_ref TEXT, email TEXT, first_name TEXT, last_name TEXT);\n\
             \\copy staging FROM '{}' CSV HEADER\n{}\nCOMMIT;\n",
            csv.display(),
            insert(
                "lpad(to_hex(row_number() OVER ()), 12, '0') \
                 || md5(random()::text) || md5(random()::text)"
            )
        ),
    };
    common::time_client(&db, &script)
}

async fn bench(backend: Backend, n: usize) -> Option<()> {
    let db = TestDb::open(backend).await?;
    let (u, clock) = account(&db, (n as i64) + 10).await;
    // The account's users before the import (USHER_BENCH_EXISTING, default none).
    let existing: u64 = common::env_or("USHER_BENCH_EXISTING", 0);
    if existing > 0 {
        u.generate_fake_users(existing, "acme.test").await.unwrap();
    }
    let rss = |stage: &str| {
        if std::env::var_os("USHER_BENCH_STAGES").is_some() {
            eprintln!(
                "  {stage}: RSS {:.0} MiB, peak {:.0} MiB",
                common::proc_status_mib("VmRSS:"),
                peak_rss_mib()
            );
        }
    };
    let path = db.dir.path().join("users.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        f,
        "Unique Reference,Primary email address,FirstName,LastName"
    )
    .unwrap();
    for i in 0..n {
        writeln!(
            f,
            "EMP-{i},first{i}.last@acme.test,First{i},Last{}",
            i % 977
        )
        .unwrap();
    }
    f.flush().unwrap();
    drop(f);
    // The peak from here on is the import's: building the account's users above is the
    // bench's setup, which `usher db fake-users` does in a process of its own. Writing 5
    // resets the peak to the current RSS (Linux 4.0 and later).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    rss("before reading");
    let t = Instant::now();
    let parsed =
        std::sync::Arc::new(usher::import::parse_file(&path, &Default::default(), &[]).unwrap());
    let read_s = t.elapsed().as_secs_f64();
    rss("read");
    let t = Instant::now();
    let plan = u.import_preview(parsed.clone()).await.unwrap();
    let new = plan.counts[&usher::import::plan::Bucket::New];
    let preview_s = t.elapsed().as_secs_f64();
    rss("preview");
    // As on the command line, apply plans again itself: the preview is not kept.
    drop(plan);
    let t = Instant::now();
    // The first report comes once apply has planned again (it reads the account afresh)
    // and written its first chunk: how its time splits between planning and writing.
    let first_write = std::sync::Arc::new(std::sync::OnceLock::new());
    let opts = ApplyOptions {
        progress: usher::import::Progress::new({
            let first_write = first_write.clone();
            move |_, _, _| {
                first_write.get_or_init(|| t.elapsed().as_secs_f64());
            }
        }),
        ..Default::default()
    };
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    let apply_s = t.elapsed().as_secs_f64();
    let planning_s = first_write.get().copied().unwrap_or(0.0);
    rss("apply");
    assert_eq!(out.invited, n);
    println!(
        "{backend:<8} {n} rows into {existing} users: read {read_s:.2} s ({:.0} rows/s), preview {preview_s:.2} s, apply {apply_s:.2} s ({:.0} invitations/s; it had planned and written its first {} at {planning_s:.2} s), {} new; peak RSS {:.0} MiB",
        n as f64 / read_s,
        n as f64 / apply_s,
        usher::import::progress::EVERY,
        new,
        peak_rss_mib()
    );
    // The sender drafts the import's mail into the outbox as it sends (`mail::mailing`):
    // the rate at which it drafts, on a tenth of the import, 1,000 at a time.
    let spool = db.dir.path().join("spool");
    let toml = format!(
        "[mail]\ntransport = \"spool\"\nspool_dir = \"{}\"\n",
        spool.display()
    );
    let sender = common::sender_from_toml(&u, &clock, &toml, vec![]);
    let sample = (n / 10).max(1);
    let t = Instant::now();
    let mut drafted = 0;
    while drafted < sample {
        let d = sender
            .draft_mailing(1_000.min(sample - drafted))
            .await
            .unwrap();
        assert!(d > 0, "the mailing ended after {drafted} drafts");
        drafted += d;
    }
    let draft_s = t.elapsed().as_secs_f64();
    println!(
        "{backend:<8} the sender drafts the import's mail at {:.0} messages/s ({drafted} in {draft_s:.2} s)",
        drafted as f64 / draft_s
    );
    let t = Instant::now();
    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!(undo.revoked, n);
    println!(
        "{backend:<8} undo of that import: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    match floor(backend, &path).await {
        Some(f) => println!(
            "{backend:<8} floor: the database's own loader on the same file, {f:.2} s; usher's apply takes {:.1}x as long",
            apply_s / f
        ),
        None => println!("{backend:<8} floor not measured (sqlite3 or psql missing?)"),
    }
    let renames: u64 = common::env_or("USHER_BENCH_RENAMES", 0);
    if renames > 0 && existing > 0 {
        renames_and_suspensions(&u, renames.min(existing), existing, db.dir.path()).await;
    }
    Some(())
}

/// An import that renames the first `renames` existing users (matched by unique
/// reference) and suspends the rest as missing from the file, then its undo: the bulk
/// updates of `service::import_edits`.
async fn renames_and_suspensions(
    u: &usher::service::Usher,
    renames: u64,
    existing: u64,
    dir: &std::path::Path,
) {
    let backend = u.store().backend();
    let path = dir.join("renames.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        f,
        "Unique Reference,Primary email address,FirstName,LastName"
    )
    .unwrap();
    // `generate_fake_users` numbers users after the administrator, from 1.
    for i in 1..=renames {
        writeln!(f, "S-1-5-21-{i},user{i:07}@acme.test,Renamed{i},Person").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let parsed =
        std::sync::Arc::new(usher::import::parse_file(&path, &Default::default(), &[]).unwrap());
    let opts = ApplyOptions {
        missing: usher::service::Missing::Suspend,
        ..Default::default()
    };
    let t = Instant::now();
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    let apply_s = t.elapsed().as_secs_f64();
    assert_eq!(out.updated as u64, renames);
    assert_eq!(out.suspended as u64, existing - renames);
    let t = Instant::now();
    let undo = u.import_undo(out.batch_id).await.unwrap();
    let undo_s = t.elapsed().as_secs_f64();
    assert_eq!(undo.restored as u64, renames);
    assert_eq!(undo.reactivated as u64, existing - renames);
    println!(
        "{backend:<8} {renames} renames and {} suspensions: apply {apply_s:.2} s ({:.0} users/s), undo {undo_s:.2} s",
        existing - renames,
        existing as f64 / apply_s
    );
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick {
        500
    } else {
        common::env_or("USHER_BENCH_ROWS", 100_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // USHER_BENCH_ONLY=sqlite or =postgres runs one backend.
    let only = std::env::var("USHER_BENCH_ONLY").unwrap_or_default();
    rt.block_on(async {
        if only != "postgres" {
            bench(Backend::Sqlite, n).await;
        }
        if only != "sqlite" && bench(Backend::Postgres, n).await.is_none() {
            println!("postgres  skipped (set USHER_TEST_POSTGRES_URL)");
        }
    });
}
