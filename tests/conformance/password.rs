//! Passwords users manage themselves (docs/mailserver.md), on both backends: the reset
//! link's rules (one answer for unknown addresses, the hourly limit, single use, expiry,
//! a new password closing every open link), a change with the current password, and the
//! site's command after a change, with its outcome in the audit log.

use usher::Usher;
use usher::config::{AfterChange, Secret};
use usher::domain::password::verify_password;
use usher::domain::{Actor, UserType};
use usher::error::Error;
use usher::service::{NewCorporateUser, RESET_LINK_MS, Target};

use crate::common::{TestDb, account, settings};
use crate::raw_messages;

crate::on_both_backends!(
    a_reset_link_works_once_until_it_expires,
    unknown_addresses_and_the_hourly_limit_get_the_same_answer,
    a_password_is_changed_with_the_current_one,
    the_sites_command_runs_after_a_change_and_is_audited,
    the_sites_command_runs_for_the_users_an_import_changes,
);

const OLD: &str = "first-garden-violet-41";
const NEW: &str = "second-harbour-copper-77";

/// An account with ann, who has a password.
async fn with_ann(db: &TestDb) -> (Usher, usher::domain::ManualClock) {
    let (u, clock) = account(db, 10).await;
    u.create_user(&NewCorporateUser {
        email: "ann@acme.test".into(),
        first_name: "Ann".into(),
        last_name: "Lee".into(),
        user_type: UserType::Professional,
        personal_mailbox: false,
        timezone: String::new(),
        phone: String::new(),
    })
    .await
    .unwrap();
    let phc = usher::domain::password::hash_password(&Secret::new(OLD)).unwrap();
    let mut tx = u.store().write().await.unwrap();
    let id = tx
        .user_by_email(1, "ann@acme.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    tx.set_password_hash(id, &phc, true).await.unwrap();
    tx.commit().await.unwrap();
    (u, clock)
}

/// The tokens of the reset links mailed so far, oldest first.
async fn reset_tokens(u: &Usher) -> Vec<String> {
    raw_messages(u.store())
        .await
        .into_iter()
        .filter_map(|(_, _, raw)| {
            let text = String::from_utf8_lossy(&raw)
                .replace("=\r\n", "")
                .replace("=\n", "");
            let at = text.find("/password/reset/")? + "/password/reset/".len();
            Some(
                text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect(),
            )
        })
        .collect()
}

async fn hash_of(u: &Usher) -> String {
    let mut tx = u.store().read().await.unwrap();
    let id = tx
        .user_by_email(1, "ann@acme.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    tx.password_hash(id).await.unwrap().unwrap().0.unwrap()
}

async fn a_reset_link_works_once_until_it_expires(db: &TestDb) {
    let (u, clock) = with_ann(db).await;
    let ann = Target::Email("ann@acme.test".into());
    u.send_password_reset(&ann).await.unwrap();
    u.request_password_reset("Ann@Acme.test").await.unwrap();
    let tokens = reset_tokens(&u).await;
    assert_eq!(tokens.len(), 2);
    let page = u.password_reset_page(&tokens[0]).await.unwrap().unwrap();
    assert_eq!(page.email, "ann@acme.test");
    assert!(u.password_reset_page("forged").await.unwrap().is_none());

    // A weak password is refused and the link still works.
    let weak = u
        .reset_password(&tokens[0], &Secret::new("password1234"))
        .await;
    assert!(
        matches!(
            weak,
            Err(Error::Invalid {
                field: "password",
                ..
            })
        ),
        "{weak:?}"
    );
    u.reset_password(&tokens[0], &Secret::new(NEW))
        .await
        .unwrap();
    let phc = hash_of(&u).await;
    assert!(verify_password(NEW, &phc) && !verify_password(OLD, &phc));
    let detail = u.user_detail(&ann).await.unwrap();
    assert!(detail.mail.unwrap().may_login, "the forced change is done");

    // Used once; and the other open link was closed by the new password.
    for t in &tokens {
        assert!(matches!(
            u.reset_password(t, &Secret::new("third-lantern-quartz-15"))
                .await,
            Err(Error::LinkUnusable)
        ));
    }
    // A fresh link runs out after an hour.
    u.send_password_reset(&ann).await.unwrap();
    let fresh = reset_tokens(&u).await.pop().unwrap();
    clock.advance_ms(RESET_LINK_MS + 1);
    assert!(u.password_reset_page(&fresh).await.unwrap().is_none());
    assert!(matches!(
        u.reset_password(&fresh, &Secret::new("third-lantern-quartz-15"))
            .await,
        Err(Error::LinkUnusable)
    ));
    // A suspended user gets no link, and says so to an operator.
    u.suspend_user(&ann).await.unwrap();
    let e = u.send_password_reset(&ann).await.unwrap_err();
    assert!(e.to_string().contains("suspended"), "{e}");
}

async fn unknown_addresses_and_the_hourly_limit_get_the_same_answer(db: &TestDb) {
    let (u, clock) = with_ann(db).await;
    u.request_password_reset("nobody@acme.test").await.unwrap();
    assert!(reset_tokens(&u).await.is_empty());
    assert!(u.request_password_reset("not an address").await.is_err());
    for _ in 0..5 {
        u.request_password_reset("ann@acme.test").await.unwrap();
    }
    assert_eq!(reset_tokens(&u).await.len(), 3, "three an hour");
    let e = u
        .send_password_reset(&Target::Email("ann@acme.test".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("in the last hour"), "{e}");
    clock.advance_ms(3_600_001);
    u.request_password_reset("ann@acme.test").await.unwrap();
    assert_eq!(reset_tokens(&u).await.len(), 4);
    // An operator without users.manage may not send one.
    let stranger = u.with_actor(Actor::new("eve@elsewhere.test"));
    assert!(matches!(
        stranger
            .send_password_reset(&Target::Email("ann@acme.test".into()))
            .await,
        Err(Error::Forbidden(_))
    ));
}

async fn a_password_is_changed_with_the_current_one(db: &TestDb) {
    let (u, _clock) = with_ann(db).await;
    u.request_password_reset("ann@acme.test").await.unwrap();
    let wrong = u
        .change_password(
            "ann@acme.test",
            &Secret::new("not-it-at-all-9"),
            &Secret::new(NEW),
        )
        .await;
    assert!(matches!(
        wrong,
        Err(Error::Invalid {
            field: "current password",
            ..
        })
    ));
    let nobody = u
        .change_password("nobody@acme.test", &Secret::new(OLD), &Secret::new(NEW))
        .await
        .unwrap_err();
    assert_eq!(
        nobody.to_string(),
        wrong.unwrap_err().to_string(),
        "one answer"
    );
    let same = u
        .change_password("ann@acme.test", &Secret::new(OLD), &Secret::new(OLD))
        .await;
    assert!(matches!(
        same,
        Err(Error::Invalid {
            field: "password",
            ..
        })
    ));
    u.change_password("ANN@acme.test", &Secret::new(OLD), &Secret::new(NEW))
        .await
        .unwrap();
    assert!(verify_password(NEW, &hash_of(&u).await));
    let token = reset_tokens(&u).await.pop().unwrap();
    assert!(
        u.password_reset_page(&token).await.unwrap().is_none(),
        "open links closed"
    );
    let audit = u.audit(50).await.unwrap();
    let row = audit.iter().find(|a| a.action == "user.password").unwrap();
    assert_eq!(row.actor, "ann@acme.test", "the user acts, not an operator");
}

/// A core whose after-change command appends each login to `log`.
fn logging(u: &Usher, log: &std::path::Path, more: Vec<Vec<String>>) -> Usher {
    let mut s = settings();
    let mut commands = vec![vec![
        "sh".into(),
        "-c".into(),
        format!("echo \"$0\" >> {}", log.display()),
        "{login}".into(),
    ]];
    commands.extend(more);
    s.after_change = AfterChange {
        commands,
        timeout: std::time::Duration::from_secs(5),
    };
    Usher::new(u.store().clone(), u.clock().clone(), u.actor().clone(), s)
}

async fn the_sites_command_runs_for_the_users_an_import_changes(db: &TestDb) {
    let (u, _clock) = with_ann(db).await;
    crate::seed(
        &u,
        &[
            ("gone@acme.test", "Go", "Ne", None),
            ("stay@acme.test", "St", "Ay", Some("S-1")),
            ("named@acme.test", "Na", "Med", None),
        ],
    )
    .await;
    let log = db.dir.path().join("import.log");
    let u = logging(&u, &log, Vec::new());
    let parsed = crate::imports::parse(
        db,
        "email,first name,last name,unique reference\nadmin@acme.test,,,\nann@acme.test,Ann,Lee,\nmoved@acme.test,St,Ay,S-1\nnamed@acme.test,Renamed,Med,\n",
    );
    let opts = usher::service::ApplyOptions {
        missing: usher::service::Missing::Suspend,
        ..Default::default()
    };
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    assert_eq!(out.suspended, 1, "{out:?}");
    let mut ran: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    ran.sort();
    // The suspended user, and both addresses of the one whose address changed; not the
    // one whose name alone changed.
    assert_eq!(ran, ["gone@acme.test", "moved@acme.test", "stay@acme.test"]);
}

async fn the_sites_command_runs_after_a_change_and_is_audited(db: &TestDb) {
    let (u, _clock) = with_ann(db).await;
    let log = db.dir.path().join("after.log");
    let failing = vec![
        vec!["sh".into(), "-c".into(), "echo refused >&2; exit 3".into()],
        vec![
            "/nonexistent/doveadm".into(),
            "kick".into(),
            "{login}".into(),
        ],
    ];
    let u = logging(&u, &log, failing);
    let ann = Target::Email("ann@acme.test".into());
    u.suspend_user(&ann).await.unwrap();
    u.reactivate_user(&ann).await.unwrap();
    u.change_password("ann@acme.test", &Secret::new(OLD), &Secret::new(NEW))
        .await
        .unwrap();
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran, "ann@acme.test\n".repeat(3));
    let rows: Vec<_> = u
        .audit(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "mailserver.after_change")
        .collect();
    assert_eq!(rows.len(), 9, "three commands after each of three changes");
    let failed = |r: &&usher::store::AuditEntry| {
        let d: serde_json::Value = serde_json::from_str(&r.details).unwrap();
        d["failed"].as_i64().unwrap()
    };
    assert_eq!(rows.iter().filter(|r| failed(r) == 0).count(), 3);
    let refused = rows
        .iter()
        .find(|r| r.details.contains("exit status: 3"))
        .unwrap();
    assert!(refused.details.contains("refused"), "{}", refused.details);
    assert!(
        rows.iter()
            .any(|r| r.details.contains("cannot start /nonexistent/doveadm"))
    );
}
