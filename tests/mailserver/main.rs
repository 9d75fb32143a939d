//! The mail server reads usher: real Dovecot (Debian 12's 2.3 and Debian 13's 2.4) and
//! Postfix's `postmap` reading the configuration `usher mailserver config` writes, on both
//! backends. A user invited and enrolled over HTTP logs in over IMAP; suspended, they
//! cannot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/cli.rs"]
mod cli;
#[path = "../common/mod.rs"]
mod common;
#[path = "../common/dovecot.rs"]
mod dovecot;
#[path = "../common/server.rs"]
mod server;

mod dovecot24;
mod imap;
mod postfix;

use std::time::Duration;

use usher::mailserver::{ImapLogin, imap_login};
use usher::store::Backend;

use common::TestDb;
use dovecot::Dovecot;

const PASSWORD: &str = "tawny-quarry-lemon-88";

/// On PostgreSQL the mail server logs in as a role of its own (unique per test, since
/// roles belong to the cluster); on SQLite it reads the file.
fn mail_role(db: &TestDb) -> String {
    let role = format!(
        "usher_mail_{}",
        usher::domain::token::random_hex(4).unwrap()
    );
    if db.backend == Backend::Postgres {
        let said = cli::ok(db, &["mailserver", "role", &role]);
        assert!(said.contains(&format!("Created the role {role}")), "{said}");
    }
    role
}

async fn login(d: &Dovecot, user: &str, password: &str) -> ImapLogin {
    imap_login(&d.addr(), user, password, Duration::from_secs(10))
        .await
        .unwrap()
}

/// The database the CLI of a test uses: its data directory's file, or PostgreSQL's URL.
fn cli_url(db: &TestDb) -> String {
    match db.backend {
        Backend::Sqlite => format!("sqlite://{}", db.dir.path().join("data/usher.db").display()),
        Backend::Postgres => db.url.clone(),
    }
}

/// The test's role goes with its schema; the cluster keeps no trace of it.
async fn drop_role(db: &TestDb, role: &str) {
    if db.backend != Backend::Postgres {
        return;
    }
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
    }
}
