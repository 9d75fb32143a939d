//! `cargo bench --bench console`: the console's work at a million users, on each backend.
//! Generates USHER_BENCH_USERS users (default 1,000,000; PostgreSQL too when
//! USHER_TEST_POSTGRES_URL is set), then times what a keystroke costs: the first page,
//! searches (prefix, substring, name, dense, one letter), deep pages, a frame, and the
//! console's memory while paging through the users. The searches are timed in
//! USHER_BENCH_RUNS rounds (default 3) of 30 each; on PostgreSQL each round is timed
//! again on a connection under `plan_cache_mode = force_generic_plan`, the plan that
//! PostgreSQL may choose for itself after five runs of a statement (docs/performance.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::{TestDb, account};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use usher::Usher;
use usher::store::{Backend, ConnectOptions, Store};
use usher::tui::action::{Action, Effect};
use usher::tui::app::App;
use usher::tui::keymap::Keymap;
use usher::tui::theme::Theme;
use usher::tui::{view, worker};

fn rss_mib() -> f64 {
    common::proc_status_mib("VmRSS:")
}

/// Median and 95th percentile of `runs` timings, in milliseconds.
async fn time<F, Fut, T>(runs: usize, mut f: F) -> (f64, f64, T)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let mut out = f().await; // warm the cache once
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f().await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[(runs * 95 / 100).min(runs - 1)], out)
}

/// Feeds effects to the worker and its answers back, as the console's loop does.
async fn settle(app: &mut App, u: &Usher, mut fx: Vec<Effect>) {
    // Progress reports are not needed here: their channel is dropped.
    let (progress, _) = tokio::sync::mpsc::unbounded_channel();
    while let Some(e) = fx.pop() {
        let a = worker::perform(u, e, &progress).await;
        fx.extend(app.update(a));
    }
}

/// Times each search and page the Users tab makes (median and p95 of 30, warm).
async fn searches(u: &Usher, n: u64, tag: &str) {
    let deep = format!("user{:07}@example.test", n * 9 / 10);
    let cases: Vec<(&str, &str, String)> = vec![
        ("open the Users tab (first page)", "", String::new()),
        ("prefix keystroke 'user00123'", "user00123", String::new()),
        ("substring '4567'", "4567", String::new()),
        ("name 'tanaka17'", "tanaka17", String::new()),
        ("dense 'example' (every user)", "example", String::new()),
        ("one letter 'a'", "a", String::new()),
        ("no match 'zzz'", "zzz", String::new()),
        ("page at 90% (keyset)", "", deep),
    ];
    for (label, search, after) in &cases {
        let (med, p95, rows) = time(30, || u.users(search, after, 200)).await;
        println!(
            "  {label:<36} median {med:>7.2} ms  p95 {p95:>7.2} ms  ({} rows){tag}",
            rows.unwrap().len()
        );
    }
    let (med, p95, _) = time(30, || u.users_before("", "", 200)).await;
    println!(
        "  {:<36} median {med:>7.2} ms  p95 {p95:>7.2} ms{tag}",
        "last page (G)"
    );
}

async fn bench(backend: Backend, n: u64) -> Option<()> {
    let db = TestDb::open(backend).await?;
    let (u, clock) = account(&db, 5).await;
    let t = Instant::now();
    u.generate_fake_users(n, "example.test").await.unwrap();
    let gen_s = t.elapsed().as_secs_f64();
    println!(
        "\n{backend}: {n} users generated in {gen_s:.1} s ({:.0} rows/s)",
        n as f64 / gen_s
    );

    let generic = match backend {
        Backend::Postgres => {
            let url = format!("{}&options[plan_cache_mode]=force_generic_plan", db.url);
            let store = Store::open(&url, &ConnectOptions::default()).await.unwrap();
            Some(common::core(store, &clock))
        }
        Backend::Sqlite => None,
    };
    let rounds = common::env_or::<u64>("USHER_BENCH_RUNS", 3).max(1);
    for round in 1..=rounds {
        println!("  round {round} of {rounds}");
        searches(&u, n, "").await;
        if let Some(g) = &generic {
            searches(g, n, " [generic plan]").await;
        }
    }

    // The console itself: a frame with a page of users, and memory while paging.
    let mut app = App::new(Keymap::defaults());
    app.page_rows = 55;
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('2'),
        KeyModifiers::NONE,
    )));
    settle(&mut app, &u, fx).await;
    let fx = app.refresh();
    settle(&mut app, &u, fx).await;
    let mut term = Terminal::new(TestBackend::new(160, 60)).unwrap();
    let theme = Theme::colour();
    let (med, p95, _) = time(200, || {
        let r = term.draw(|f| view::draw(f, &mut app, &theme)).map(|_| ());
        async move { r }
    })
    .await;
    println!(
        "  {:<36} median {med:>7.3} ms  p95 {p95:>7.3} ms",
        "render a 160x60 frame"
    );

    let rss_start = rss_mib();
    let t = Instant::now();
    let mut walked = 0u64;
    let mut rss_after_5k = 0.0;
    while walked < 50_000.min(n) {
        let fx = app.update(Action::Key(KeyEvent::new(
            KeyCode::PageDown,
            KeyModifiers::NONE,
        )));
        settle(&mut app, &u, fx).await;
        walked += app.page_rows as u64;
        if rss_after_5k == 0.0 && walked >= 5_000 {
            rss_after_5k = rss_mib();
        }
    }
    println!(
        "  paged through {walked} users in {:.1} s: {} rows held; RSS {rss_start:.0} MiB at start, {rss_after_5k:.0} after 5k, {:.0} after {walked}",
        t.elapsed().as_secs_f64(),
        app.users.rows.len(),
        rss_mib()
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    Some(())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick {
        5_000
    } else {
        common::env_or::<u64>("USHER_BENCH_USERS", 1_000_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        bench(Backend::Sqlite, n).await;
        if bench(Backend::Postgres, n).await.is_none() {
            println!("postgres: skipped (set USHER_TEST_POSTGRES_URL)");
        }
    });
}
