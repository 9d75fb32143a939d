//! Running the real binary in a clean environment, for the command-line tests.
#![allow(dead_code)] // each test binary uses a part

use std::process::{Command, Output};

use crate::common::TestDb;

/// `usher` with a clean environment: a home and data directory of its own, no config.
pub fn usher(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_usher"));
    let home = db.dir.path().join("home");
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("USHER_DATA_DIR", db.dir.path().join("data"))
        .env("USHER_OPERATOR", "admin@acme.test");
    if db.backend == usher::store::Backend::Postgres {
        c.env("USHER_DATABASE_URL", &db.url);
    }
    c
}

pub fn run(db: &TestDb, args: &[&str]) -> Output {
    usher(db).args(args).output().unwrap()
}

pub fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "usher {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(db: &TestDb, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

pub fn init(db: &TestDb, licences: &str) {
    ok(
        db,
        &[
            "init",
            "--org",
            "Acme",
            "--domain",
            "acme.test",
            "--licences",
            licences,
            "--admin",
            "admin@acme.test",
        ],
    );
}

/// `usher` with mail going to a real SMTP sink (plain, no TLS) and attachments limited
/// to 64 KiB.
pub fn with_sink(db: &TestDb, sink: &crate::common::smtp::SmtpSink) -> Command {
    let cfg = db.dir.path().join("smtp.toml");
    std::fs::write(
        &cfg,
        format!(
            "[mail]\ntransport = \"smtp\"\nattachment_max_kib = 64\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            sink.port
        ),
    )
    .unwrap();
    let mut c = usher(db);
    c.env("USHER_CONFIG", cfg);
    c
}

/// The first message the sink received whose text contains `needle`: (recipients, raw).
pub fn received(sink: &crate::common::smtp::SmtpSink, needle: &str) -> (Vec<String>, String) {
    sink.messages()
        .into_iter()
        .find(|(_, raw)| raw.contains(needle))
        .unwrap_or_else(|| panic!("no message containing {needle:?}"))
}
