//! One conformance suite, run on SQLite always and on PostgreSQL when
//! USHER_TEST_POSTGRES_URL is set: every store and invitation rule, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod answers;
mod audit;
mod domains;
mod enrol;
mod import_edits;
mod import_mail;
mod imports;
mod invitations;
mod mailserver;
mod password;
mod registration;
mod roles;
mod second_export;
mod store;
mod templates;
mod users;
mod workbook;

use sqlx::Connection;
use usher::Usher;
use usher::domain::{DeliveryState, InvitationStatus};
use usher::domain::{UserStatus, UserType};
use usher::store::{Backend, InvitationFilter, NewUser, Store};

use common::TestDb;

pub fn all(status: Option<InvitationStatus>) -> InvitationFilter {
    InvitationFilter {
        status,
        ..Default::default()
    }
}

/// The token in a message's link (quoted-printable soft breaks undone).
pub fn token_in(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw)
        .replace("=\r\n", "")
        .replace("=\n", "");
    let at = text.find("/enrol/").expect("a link in the message") + "/enrol/".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

pub async fn raw_messages(store: &Store) -> Vec<(i64, DeliveryState, Vec<u8>)> {
    let mut tx = store.read().await.unwrap();
    let mut out = Vec::new();
    for m in tx.list_outbox(1, 10_000).await.unwrap() {
        let raw = tx.outbox_raw(m.id).await.unwrap().unwrap();
        out.push((m.id, m.state, raw));
    }
    out
}

pub async fn exec_raw(db: &TestDb, sql: &str) -> Result<u64, String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
    }
}

/// Adds guest users (address, first name, last name, unique reference) to account 1.
pub async fn seed(u: &Usher, users: &[(&str, &str, &str, Option<&str>)]) {
    let mut tx = u.store().write().await.unwrap();
    for (email, first, last, r) in users {
        tx.insert_user(&NewUser {
            account_id: 1,
            email,
            email_display: email,
            first_name: first,
            last_name: last,
            unique_ref: *r,
            user_type: UserType::Guest,
            status: UserStatus::Active,
            now: u.clock().now(),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}
