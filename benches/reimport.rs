//! `cargo bench --bench reimport`: a second export of a directory applied to the account
//! the first one made, on each backend. The account holds USHER_BENCH_USERS users
//! (default 1,000,000, made by `generate_fake_users`); the file, in a shuffled order,
//! renames half of them (new names; half of those a new address too), repeats three
//! tenths unchanged, and adds a fifth as many new people. In the same run, on the same
//! users, the floor: the database's own loader into a staging table and one
//! `INSERT ... ON CONFLICT DO UPDATE` of the same rows (rolled back, so that usher's
//! apply starts from the same users). USHER_BENCH_RUNS (default 3) runs each backend;
//! USHER_BENCH_ONLY=sqlite|postgres runs one; USHER_BENCH_SORTED writes the file in key
//! order instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use common::{TestDb, account};
use usher::store::Backend;

/// The rows of the second export, shuffled (a fixed seed: every run the same file).
fn write_export(path: &Path, users: u64) -> (u64, u64, u64) {
    const FIRST: [&str; 8] = ["Ann", "Bob", "Carla", "Dev", "Eve", "Femi", "Gus", "Hana"];
    const LAST: [&str; 8] = [
        "Lee", "Smith", "Okafor", "Nowak", "Garcia", "Tanaka", "Berg", "Silva",
    ];
    let renamed = users / 2;
    let unchanged = users * 3 / 10;
    let new = users / 5;
    let mut rows = Vec::with_capacity((renamed + unchanged + new) as usize);
    // `generate_fake_users` numbers users after the administrator, from 1.
    for i in 1..=renamed + unchanged {
        let (first, last) = (FIRST[(i % 8) as usize], LAST[((i / 8) % 8) as usize]);
        rows.push(if i > renamed {
            format!(
                "S-1-5-21-{i},user{i:07}@acme.test,{first},{last}{},guest",
                i % 997
            )
        } else if i % 2 == 0 {
            format!("S-1-5-21-{i},user{i:07}@acme.test,{first},Married{i},guest")
        } else {
            format!("S-1-5-21-{i},{first}.married{i}@acme.test,{first},Married{i},guest")
        });
    }
    for i in 0..new {
        rows.push(format!(
            "HIRE-{i},new{i:07}@acme.test,New{i},Hire{},guest",
            i % 991
        ));
    }
    // USHER_BENCH_SORTED leaves them in key order, to compare.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let shuffled = std::env::var_os("USHER_BENCH_SORTED").is_none();
    for i in (1..rows.len()).rev().filter(|_| shuffled) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        rows.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "Unique Reference,Primary email address,FirstName,LastName,User Type"
    )
    .unwrap();
    for r in rows {
        writeln!(f, "{r}").unwrap();
    }
    f.flush().unwrap();
    (renamed, unchanged, new)
}

/// The floor: staging load and one upsert of the changed rows, in the table's order (as
/// a DBA would write it: in the file's order it takes twice as long), in a transaction
/// rolled back. None when sqlite3 or psql is missing.
fn floor(db: &TestDb, csv: &Path) -> Option<f64> {
    let upsert = "INSERT INTO users (account_id, unique_ref, email, email_display, first_name,
            last_name, display_name, user_type, status, created_at, updated_at)
         SELECT 1, s.unique_ref, lower(s.email), s.email, s.first_name, s.last_name,
            s.first_name || ' ' || s.last_name, s.user_type, 'active', 0, 0
         FROM staging s LEFT JOIN users u ON u.account_id = 1 AND u.unique_ref = s.unique_ref
         WHERE true ORDER BY u.id NULLS LAST, s.email
         ON CONFLICT (account_id, unique_ref) DO UPDATE SET email = excluded.email,
            email_display = excluded.email_display, first_name = excluded.first_name,
            last_name = excluded.last_name, display_name = excluded.display_name,
            updated_at = excluded.updated_at
         WHERE (users.email, users.first_name, users.last_name)
            IS NOT (excluded.email, excluded.first_name, excluded.last_name);";
    let staging = "CREATE TEMP TABLE staging (unique_ref TEXT, email TEXT, first_name TEXT, \
                   last_name TEXT, user_type TEXT);";
    let script = match db.backend {
        Backend::Sqlite => format!(
            "PRAGMA synchronous = NORMAL;\nPRAGMA cache_size = -32768;\nBEGIN;\n{staging}\n\
             .import --csv --skip 1 {} staging\n{upsert}\nROLLBACK;\n",
            csv.display()
        ),
        Backend::Postgres => format!(
            "BEGIN;\n{staging}\n\\copy staging FROM '{}' CSV HEADER\n{}\nROLLBACK;\n",
            csv.display(),
            upsert.replace(" IS NOT ", " IS DISTINCT FROM ")
        ),
    };
    common::time_client(db, &script)
}

/// One run: (usher's read, plan and apply; the floor).
async fn run(backend: Backend, users: u64) -> Option<(f64, Option<f64>)> {
    let db = TestDb::open(backend).await?;
    let (u, _clock) = account(&db, 10).await;
    u.generate_fake_users(users, "acme.test").await.unwrap();
    let path = db.dir.path().join("second-export.csv");
    let (renamed, unchanged, new) = write_export(&path, users);
    let floor_s = floor(&db, &path);
    let t = Instant::now();
    let parsed =
        std::sync::Arc::new(usher::import::parse_file(&path, &Default::default(), &[]).unwrap());
    let out = u.import_apply(&parsed, &Default::default()).await.unwrap();
    let apply_s = t.elapsed().as_secs_f64();
    assert_eq!(out.updated as u64, renamed);
    assert_eq!(out.invited as u64, new);
    println!(
        "{backend:<8} {users} users; {renamed} renamed, {unchanged} unchanged, {new} new{}: \
         read and apply {apply_s:.2} s; floor {}",
        if std::env::var_os("USHER_BENCH_SORTED").is_some() {
            ", in key order"
        } else {
            ", shuffled"
        },
        floor_s.map_or("not measured".into(), |f| format!(
            "{f:.2} s (usher {:.1}x)",
            apply_s / f
        ))
    );
    Some((apply_s, floor_s))
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (users, runs) = if quick {
        (2_000, 1)
    } else {
        (
            common::env_or("USHER_BENCH_USERS", 1_000_000u64),
            common::env_or("USHER_BENCH_RUNS", 3u64).max(1),
        )
    };
    let only = std::env::var("USHER_BENCH_ONLY").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if only == "sqlite" && backend == Backend::Postgres
                || only == "postgres" && backend == Backend::Sqlite
            {
                continue;
            }
            let mut ratios = Vec::new();
            let mut times = Vec::new();
            for _ in 0..runs {
                let Some((apply, floor)) = run(backend, users).await else {
                    println!("{backend:<8} skipped (set USHER_TEST_POSTGRES_URL)");
                    break;
                };
                times.push(apply);
                ratios.extend(floor.map(|f| apply / f));
            }
            times.sort_by(f64::total_cmp);
            ratios.sort_by(f64::total_cmp);
            if let (Some(t), Some(r)) = (times.get(times.len() / 2), ratios.get(ratios.len() / 2)) {
                println!(
                    "{backend:<8} {} run(s): apply median {t:.2} s, worst {:.2} s; usher/floor median {r:.1}x, worst {:.1}x",
                    times.len(),
                    times[times.len() - 1],
                    ratios[ratios.len() - 1]
                );
            }
        }
    });
}
