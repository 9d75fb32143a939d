//! The mail server's views (docs/mailserver.md) on both backends: their columns are a
//! contract, each reason a login is refused shows, the system roles' permissions match
//! the catalog, and the Stalwart queries usher writes run.

use std::path::Path;

use usher::config::Secret;
use usher::domain::password::hash_password;
use usher::domain::permission::SYSTEM_ROLES;
use usher::mailserver::{self, MailDb, VIEWS};
use usher::service::{Target, Verify};
use usher::store::{Backend, MailLogin};

use crate::common::{TestDb, account};
use crate::seed;

crate::on_both_backends!(
    the_views_keep_their_columns,
    each_reason_a_login_is_refused_shows,
    system_roles_in_the_database_match_the_catalog,
    the_stalwart_queries_answer,
);

/// The contract: a view's columns never change; a new shape is a new view.
const CONTRACT: [(&str, &[&str]); 5] = [
    (
        "usher_mail_logins_v1",
        &[
            "user_id",
            "login",
            "domain",
            "user_type",
            "reason",
            "may_login",
            "password",
        ],
    ),
    ("usher_mail_domains_v1", &["domain", "account"]),
    (
        "usher_mail_mailboxes_v1",
        &["address", "domain", "local_part", "kind", "maildir"],
    ),
    ("usher_mail_aliases_v1", &["address", "destination"]),
    ("usher_mail_send_as_v1", &["address", "login"]),
];

async fn columns(db: &TestDb, view: &str) -> Vec<String> {
    match db.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let sql = format!("SELECT name FROM pragma_table_info('{view}') ORDER BY cid");
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
            )
            .bind(view)
            .fetch_all(&mut c)
            .await
            .unwrap()
        }
    }
}

async fn the_views_keep_their_columns(db: &TestDb) {
    let _ = account(db, 5).await;
    assert_eq!(CONTRACT.map(|(v, _)| v), VIEWS);
    for (view, want) in CONTRACT {
        assert_eq!(columns(db, view).await, want, "{view}");
    }
}

async fn login_of(u: &usher::Usher, email: &str) -> MailLogin {
    u.user_detail(&Target::Email(email.into()))
        .await
        .unwrap()
        .mail
        .unwrap()
}

async fn each_reason_a_login_is_refused_shows(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(
        &u,
        &[
            ("ok@acme.test", "O", "K", None),
            ("nopass@acme.test", "N", "P", None),
            ("change@acme.test", "C", "H", None),
            ("gone@acme.test", "G", "O", None),
            ("guest@outside.test", "G", "U", None),
            ("dee@old.test", "D", "E", None),
        ],
    )
    .await;
    u.add_domain("old.test").await.unwrap();
    u.verify_domain("old.test", &Verify::Manual("ours".into()))
        .await
        .unwrap();
    let phc = hash_password(&Secret::new("a-long-and-unusual-pass")).unwrap();
    {
        let mut tx = u.store().write().await.unwrap();
        for (email, must_change) in [
            ("ok@acme.test", false),
            ("change@acme.test", true),
            ("gone@acme.test", false),
            ("guest@outside.test", false),
            ("dee@old.test", false),
        ] {
            let id = tx.user_by_email(1, email).await.unwrap().unwrap().id;
            tx.set_password_hash(id, &phc, must_change).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    u.suspend_user(&Target::Email("gone@acme.test".into()))
        .await
        .unwrap();
    for (email, reason) in [
        ("ok@acme.test", "ok"),
        ("nopass@acme.test", "no password yet"),
        ("change@acme.test", "must change password"),
        ("gone@acme.test", "suspended"),
        ("guest@outside.test", "not on a mail domain"),
        ("dee@old.test", "domain inactive"),
    ] {
        let m = login_of(&u, email).await;
        assert_eq!(
            (m.may_login, m.reason.as_str()),
            (reason == "ok", reason),
            "{email}"
        );
    }
    let check = u.mail_views().await.unwrap();
    assert_eq!(check.may_login, 1);
    // Only the login that may log in carries a hash, with Dovecot's scheme prefix.
    let store = u.store().clone();
    let mut tx = store.read().await.unwrap();
    let (views, _) = tx.mail_view_counts().await.unwrap();
    assert_eq!(views[0].rows, 7, "every user, the administrator too");
    drop(tx);
    let hashes = password_column(db).await;
    assert_eq!(hashes.len(), 1);
    assert!(
        hashes[0].starts_with("{ARGON2ID}$argon2id$v=19$"),
        "{}",
        hashes[0]
    );
    // Activated, the domain's user may log in.
    u.set_domain_active("old.test", true).await.unwrap();
    assert!(login_of(&u, "dee@old.test").await.may_login);
}

async fn password_column(db: &TestDb) -> Vec<String> {
    let sql = "SELECT password FROM usher_mail_logins_v1 WHERE password IS NOT NULL";
    match db.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn system_roles_in_the_database_match_the_catalog(db: &TestDb) {
    let _ = account(db, 5).await;
    let mut want: Vec<(String, String)> = SYSTEM_ROLES
        .iter()
        .flat_map(|r| {
            r.permissions
                .iter()
                .map(|p| (r.name.to_lowercase(), p.key().to_owned()))
        })
        .collect();
    want.sort();
    let sql = "SELECT role_name_key, permission FROM system_role_permissions ORDER BY 1, 2";
    let got: Vec<(String, String)> = match db.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
    };
    assert_eq!(
        got, want,
        "a change to the catalog needs a migration of this table"
    );
}

async fn the_stalwart_queries_answer(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    let schema = u.mail_schema().await.unwrap();
    let mail_db = MailDb::from_url(&db.url, "usher_mail", None, schema).unwrap();
    let text = mailserver::stalwart(&mail_db, Path::new("/x")).parts[0]
        .text
        .clone();
    let queries = mailserver::stalwart_queries(&text);
    assert_eq!(queries.len(), 5);
    for (name, sql) in queries {
        let key = if name == "domains" {
            "acme.test"
        } else {
            "admin@acme.test"
        };
        let rows = match db.backend {
            Backend::Sqlite => {
                use sqlx::Connection;
                let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(key)
                    .fetch_all(&mut c)
                    .await
                    .map(|r| r.len())
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(key)
                    .fetch_all(&mut c)
                    .await
                    .map(|r| r.len())
            }
        };
        let rows = rows.unwrap_or_else(|e| panic!("{name}: {sql}: {e}"));
        let want = match name.as_str() {
            // The administrator has no password yet, and no groups.
            "name" | "members" => 0,
            _ => 1,
        };
        assert_eq!(rows, want, "{name}: {sql}");
    }
}
