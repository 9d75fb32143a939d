//! Debian 13's Dovecot 2.4 reads the 2.4 form, in a Debian 13 root through chroot.

use std::os::unix::fs::PermissionsExt;

use usher::mailserver::ImapLogin;
use usher::store::Backend;

use crate::common::TestDb;
use crate::dovecot::Dovecot;
use crate::{PASSWORD, cli, cli_url, drop_role, login, mail_role};

crate::on_both_backends!(dovecot_24_reads_the_24_form);

/// Debian 13's Dovecot 2.4, in a root CI makes with debootstrap, reads the 2.4 form.
async fn dovecot_24_reads_the_24_form(db: &TestDb) {
    let Some(root) = Dovecot::root_24() else {
        return;
    };
    // What Dovecot reads must lie under its root: SQLite's file, the homes, the config.
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let inside = TestDb::sqlite_in(&root.join("tmp"));
    let db = if db.backend == Backend::Sqlite {
        &inside
    } else {
        db
    };
    let work = tempfile::tempdir_in(root.join("tmp")).unwrap();
    for d in [inside.dir.path(), work.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    cli::init(db, "10");
    cli::ok(db, &["users", "create", "ann@acme.test", "--first", "Ann"]);
    {
        let store = usher::store::Store::open(&cli_url(db), &Default::default())
            .await
            .unwrap();
        let phc =
            usher::domain::password::hash_password(&usher::config::Secret::new(PASSWORD)).unwrap();
        let mut tx = store.write().await.unwrap();
        let id = tx
            .user_by_email(1, "ann@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        tx.set_password_hash(id, &phc, false).await.unwrap();
        tx.commit().await.unwrap();
    }
    let role = mail_role(db);
    let homes = work.path().join("vmail");
    std::fs::create_dir_all(&homes).unwrap();
    std::fs::set_permissions(&homes, std::fs::Permissions::from_mode(0o777)).unwrap();
    let snippet = work.path().join("usher");
    cli::ok(
        db,
        &[
            "mailserver",
            "config",
            "dovecot",
            "--dovecot-version",
            "2.4",
            "--dir",
            snippet.to_str().unwrap(),
            "--role",
            &role,
            "--vmail-user",
            "nobody",
            "--vmail-group",
            "nogroup",
            "--home-root",
            homes.to_str().unwrap(),
        ],
    );
    let d = Dovecot::start_24(&root, work.path(), &snippet.join("usher-auth.conf.ext"));
    assert_eq!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Accepted,
        "{}",
        d.logs()
    );
    assert!(matches!(
        login(&d, "ann@acme.test", "tawny-quarry-lemon-89").await,
        ImapLogin::Refused(_)
    ));
    assert!(homes.join("acme.test/ann/Maildir").is_dir(), "{}", d.logs());
    cli::ok(db, &["users", "suspend", "ann@acme.test"]);
    assert!(matches!(
        login(&d, "ann@acme.test", PASSWORD).await,
        ImapLogin::Refused(_)
    ));
    drop(d);
    drop_role(db, &role).await;
}
