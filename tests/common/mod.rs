//! Test harness: a fresh database per test on each backend, a core with a manual clock,
//! and a real SMTP server.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod ca;
pub mod smtp;

use std::sync::Arc;

use sqlx::Connection;
use tempfile::TempDir;
use usher::Usher;
use usher::domain::{Actor, Email, ManualClock, Timestamp, UserType};
use usher::mail::Templates;
use usher::mail::compose::mailbox;
use usher::service::{InitRequest, InviteRequest, Settings};
use usher::store::{Backend, ConnectOptions, Store};

/// 2026-01-01T00:00:00Z: tests start here and move the clock by hand.
pub const T0: Timestamp = Timestamp(1_767_225_600_000);

pub const PG_ENV: &str = "USHER_TEST_POSTGRES_URL";

/// A fresh database: a SQLite file in a temporary directory, or a PostgreSQL schema
/// that is dropped when the test ends (passed or failed).
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pub dir: TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("usher.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            dir,
            pg: None,
        }
    }

    /// A SQLite database in a new directory under `parent` (a root another program
    /// reads it from).
    pub fn sqlite_in(parent: &std::path::Path) -> Self {
        let dir = tempfile::tempdir_in(parent).expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("data/usher.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            dir,
            pg: None,
        }
    }

    /// None (and a note on stderr) when USHER_TEST_POSTGRES_URL is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var(PG_ENV) else {
            eprintln!("skipped: {PG_ENV} is not set");
            return None;
        };
        let schema = format!("usher_t_{}", usher::domain::token::random_hex(6).unwrap());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to the test Postgres");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .expect("create test schema");
        let _ = conn.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options[search_path]={schema}");
        Some(Self {
            url,
            backend: Backend::Postgres,
            dir: tempfile::tempdir().expect("tempdir"),
            pg: Some((admin, schema)),
        })
    }

    /// A database at `url` that the test set up itself (a private PostgreSQL server).
    pub fn at(url: String, backend: Backend) -> Self {
        Self {
            url,
            backend,
            dir: tempfile::tempdir().expect("tempdir"),
            pg: None,
        }
    }

    pub async fn open(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url, &ConnectOptions::default())
            .await
            .expect("open store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, schema)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread cleans up.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&mut c)
                    .await
                    .ok()?;
                    c.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub fn settings() -> Settings {
    Settings {
        public_url: "https://usher.acme.test".into(),
        from: mailbox(Some("Acme IT"), "it@acme.test").unwrap(),
        account: None,
        templates: Arc::new(Templates::builtin().unwrap()),
        dns_servers: vec![],
        notify_fallback: None,
        attachment_max_bytes: 64 * 1024,
        reminder_lead_ms: Some(2 * 86_400_000),
        registration_link_ms: 86_400_000,
        banned_passwords: ["acme-secure-mail".to_owned()].into(),
        after_change: Default::default(),
    }
}

pub fn core(store: Store, clock: &ManualClock) -> Usher {
    Usher::new(
        store,
        Arc::new(clock.clone()),
        Actor::new("admin@acme.test"),
        settings(),
    )
}

/// A core on a fresh account with `licences` seats.
pub async fn account(db: &TestDb, licences: i64) -> (Usher, ManualClock) {
    let clock = ManualClock::new(T0);
    let u = core(db.store().await, &clock);
    u.init(&InitRequest {
        org: "Acme".into(),
        domain: "acme.test".into(),
        licences,
        admin: "admin@acme.test".into(),
        validity_days: 10,
    })
    .await
    .expect("init");
    (u, clock)
}

pub fn invite_req(addresses: &str, user_type: UserType) -> InviteRequest {
    InviteRequest {
        addresses: addresses
            .split(',')
            .map(|a| Email::parse(a).unwrap())
            .collect(),
        first_name: "Test".into(),
        last_name: "Person".into(),
        user_type,
        expires_in_days: None,
        subject: None,
        message: None,
        options: Default::default(),
    }
}

/// A mail sender for `u` configured by `toml` (a config file's text) and `env`.
pub fn sender_from_toml(
    u: &Usher,
    clock: &ManualClock,
    toml: &str,
    env: Vec<(&str, &str)>,
) -> usher::mail::Sender {
    let mut env = env;
    env.push(("USHER_DATA_DIR", "/tmp/unused"));
    let cfg =
        usher::config::Config::from_toml(toml, &usher::config::Overrides::default(), &env).unwrap();
    usher::mail::Sender::new(
        u.store().clone(),
        usher::mail::MailTransport::from_config(&cfg.mail).unwrap(),
        Arc::new(clock.clone()),
        usher::mail::SenderSettings::from_config(&cfg.mail),
        u.renderer(),
    )
    .unwrap()
}

/// A `/proc/self/status` figure in MiB ("VmRSS" now, "VmHWM" the peak), for benches.
/// A number from the environment, or `default`: the benchmarks' knobs.
pub fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The database's own client on this test database (`sqlite3` on the file, `psql` on
/// the server), with the line that puts a script in the test's schema on PostgreSQL.
pub fn db_client(db: &TestDb) -> Option<(&'static str, Vec<String>, String)> {
    Some(match db.backend {
        Backend::Sqlite => (
            "sqlite3",
            vec![db.url.trim_start_matches("sqlite://").to_owned()],
            String::new(),
        ),
        Backend::Postgres => {
            let (base, schema) = db.url.split_once("?options[search_path]=")?;
            let args = ["-q", "-v", "ON_ERROR_STOP=1"].map(str::to_owned);
            (
                "psql",
                std::iter::once(base.to_owned()).chain(args).collect(),
                format!("SET search_path TO {schema};\n"),
            )
        }
    })
}

/// Seconds the database's own client takes to run `script` (after the schema line) on
/// this test database: a benchmark's floor. None when it is missing or fails.
pub fn time_client(db: &TestDb, script: &str) -> Option<f64> {
    use std::io::Write;
    let (program, args, prelude) = db_client(db)?;
    let t = std::time::Instant::now();
    let mut child = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(format!("{prelude}{script}").as_bytes())
        .ok()?;
    let ok = child.wait().ok()?.success();
    if !ok {
        println!("{program} failed; no floor measured");
    }
    ok.then(|| t.elapsed().as_secs_f64())
}

pub fn proc_status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Generates one test per backend from each `async fn NAME(db: &TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}
