//! The console when the database goes away (issue 8): PostgreSQL crashes under it, the
//! header says "reconnecting", and once the server is back the console finds it again on
//! its own and shows what changed meanwhile. On ratatui's TestBackend; the same journey in
//! tmux is in console_tmux.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/drive.rs"]
mod drive;
#[path = "common/pg_cluster.rs"]
mod pg_cluster;

use std::time::{Duration, Instant};

use common::{TestDb, account, invite_req};
use drive::Drive;
use pg_cluster::Cluster;
use usher::domain::UserType;
use usher::store::Backend;
use usher::tui::action::{Action, Effect};

impl Drive {
    /// One tick of the console's clock, with what it asks for run to the end.
    async fn tick(&mut self) {
        let fx = self.app.update(Action::Tick(self.u.clock().now()));
        self.run(fx).await;
    }
}

/// Ticks (a quarter of a second apart, as the console's) until the screen shows `what`.
async fn tick_until(d: &mut Drive, what: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        d.tick().await;
        let s = d.screen();
        if s.contains(what) {
            return s;
        }
        assert!(Instant::now() < deadline, "never showed {what:?}:\n{s}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_shows_reconnecting_and_the_console_recovers() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let db = TestDb::at(cluster.url(), Backend::Postgres);
    let (u, _) = account(&db, 10).await;
    // As the console opens it: a connection is given up on after four seconds.
    let store = usher::store::Store::open(
        &db.url,
        &usher::store::ConnectOptions {
            connect_timeout: Duration::from_secs(4),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let clock = usher::domain::ManualClock::new(common::T0);
    let mut d = Drive::new(common::core(store, &clock)).await;
    drop(u);
    assert!(d.screen().contains("0 pending"), "{}", d.screen());

    cluster.crash();
    // The status the console reads every few seconds (the periodic refresh reads the
    // tabs too; this harness runs requests one at a time, so just the status here).
    let started = Instant::now();
    d.run(vec![Effect::LoadStatus]).await;
    eprintln!("reconnecting shown after {:?}", started.elapsed());
    let s = d.screen();
    assert!(s.contains("reconnecting to the database"), "{s}");
    assert!(
        d.message().contains("lost the connection to the database"),
        "{s}"
    );

    // Down for a while: a probe fails, the console stays up and keeps saying so.
    for _ in 0..4 {
        d.tick().await;
    }
    assert!(d.screen().contains("reconnecting to the database"));

    // Back, with a change made meanwhile by someone else.
    cluster.up();
    let other = common::core(
        db.store().await,
        &usher::domain::ManualClock::new(common::T0),
    );
    other
        .invite(&invite_req("new@acme.test", UserType::Guest))
        .await
        .unwrap();
    let started = Instant::now();
    let s = tick_until(&mut d, "1 pending", Duration::from_secs(60)).await;
    eprintln!("recovered after {:?}", started.elapsed());
    assert!(!s.contains("reconnecting"), "{s}");
    assert_eq!(d.message(), "reconnected to the database");
    assert!(s.contains("new@acme.test"), "the tab reloaded:\n{s}");
}
