//! The store itself: the outbox lease, the append-only audit log, migrations.

use crate::common::{TestDb, account, invite_req};
use crate::{all, exec_raw};
use usher::domain::{DeliveryState, UserType};
use usher::store::{Backend, Store};

crate::on_both_backends!(
    audit_log_is_append_only,
    mail_and_invitations_name_an_account_that_exists,
    outbox_lease_gives_a_message_to_one_sender_at_a_time,
    a_round_of_results_marks_only_what_its_sender_holds,
);

async fn audit_log_is_append_only(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    let n = u.audit(100).await.unwrap().len();
    let e = exec_raw(db, "UPDATE audit_log SET actor = 'mallory'")
        .await
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = exec_raw(db, "DELETE FROM audit_log").await.unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(u.audit(100).await.unwrap().len(), n);
    assert!(
        u.audit(100)
            .await
            .unwrap()
            .iter()
            .all(|a| a.actor == "admin@acme.test")
    );
}

/// The account references of the outbox and the invitations hold on both backends: a
/// foreign key on SQLite, a check per statement on PostgreSQL (its migration 0015).
async fn mail_and_invitations_name_an_account_that_exists(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    u.invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap();
    let refused = [
        "INSERT INTO outbox (account_id, kind, message_id, env_from, env_to, subject, raw,
            state, attempts, next_attempt_at, created_at)
         VALUES (99, 'x', '<m@acme.test>', 'a@acme.test', 'b@acme.test', 's', '', 'queued',
            0, 0, 0)",
        "INSERT INTO invitations (account_id, email, email_display, user_type, inviter,
            token_hash, status, created_at, expires_at)
         VALUES (99, 'b@acme.test', 'b@acme.test', 'guest', 'a', 'k', 'pending', 0, 1)",
        "UPDATE invitations SET account_id = 99",
        "UPDATE outbox SET account_id = 99",
    ];
    for sql in refused {
        let e = exec_raw(db, sql).await.expect_err(sql);
        assert!(refused_for_its_account(&e), "{sql}: {e}");
    }
    // An account without users, only an invitation, cannot go or be renumbered either.
    let other = "INSERT INTO accounts (id, name, licences, created_at) VALUES (2, 'Other', 1, 0)";
    assert_eq!(exec_raw(db, other).await, Ok(1));
    let named = "INSERT INTO invitations (account_id, email, email_display, user_type, inviter,
            token_hash, status, created_at, expires_at)
         VALUES (2, 'c@other.test', 'c@other.test', 'guest', 'a', 'k2', 'pending', 0, 1)";
    assert_eq!(exec_raw(db, named).await, Ok(1));
    for sql in [
        "DELETE FROM accounts WHERE id = 2",
        "UPDATE accounts SET id = 3 WHERE id = 2",
    ] {
        let e = exec_raw(db, sql).await.expect_err(sql);
        assert!(refused_for_its_account(&e), "{sql}: {e}");
    }
    // Once nothing names it, it can go.
    let unnamed = "DELETE FROM invitations WHERE account_id = 2";
    assert_eq!(exec_raw(db, unnamed).await, Ok(1));
    assert_eq!(
        exec_raw(db, "DELETE FROM accounts WHERE id = 2").await,
        Ok(1)
    );
    let mut tx = u.store().read().await.unwrap();
    assert_eq!(tx.list_outbox(1, 10).await.unwrap().len(), 1);
    assert_eq!(
        u.invitations(&all(None)).await.unwrap()[0].email,
        "ann@acme.test"
    );
}

/// SQLite's foreign key error, or one of PostgreSQL's checks (migration 0015).
fn refused_for_its_account(e: &str) -> bool {
    [
        "FOREIGN KEY constraint failed",
        "does not exist",
        "account cannot change",
        "still named by",
    ]
    .iter()
    .any(|m| e.contains(m))
}

async fn outbox_lease_gives_a_message_to_one_sender_at_a_time(db: &TestDb) {
    let (u, clock) = account(db, 5).await;
    u.invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap();
    let store = u.store();
    let now = clock.now_ts();
    let mut tx = store.write().await.unwrap();
    let a = tx
        .claim_due(now, now.plus_ms(60_000), "A", 10)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(a.len(), 1);
    let mut tx = store.write().await.unwrap();
    assert!(
        tx.claim_due(now.plus_ms(59_999), now.plus_ms(90_000), "B", 10)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    // A dies; its lease runs out; B takes the same bytes, same Message-ID.
    let later = now.plus_ms(60_000);
    let mut tx = store.write().await.unwrap();
    let b = tx
        .claim_due(later, later.plus_ms(60_000), "B", 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(
        (b[0].message_id.as_str(), &b[0].raw, b[0].attempts),
        (a[0].message_id.as_str(), &a[0].raw, 2)
    );
    assert!(
        !tx.mark_sent(b[0].id, "A", later).await.unwrap(),
        "a sender that lost its lease records nothing"
    );
    assert!(tx.mark_sent(b[0].id, "B", later).await.unwrap());
    // A delivered message's body (which holds the link) is not kept.
    assert_eq!(tx.outbox_raw(b[0].id).await.unwrap(), Some(Vec::new()));
    tx.commit().await.unwrap();
    let inv = &u.invitations(&all(None)).await.unwrap()[0];
    assert_eq!(
        (inv.delivery, inv.sent_at),
        (Some(DeliveryState::Sent), Some(later.0))
    );
}

/// The sender records a round of deliveries in one call: those it holds are sent (and
/// their invitations say when), one another sender holds is left to that sender.
async fn a_round_of_results_marks_only_what_its_sender_holds(db: &TestDb) {
    let (u, clock) = account(db, 5).await;
    u.invite(&invite_req(
        "ann@acme.test, bob@acme.test, cy@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    let store = u.store();
    let now = clock.now_ts();
    let lease = now.plus_ms(60_000);
    let mut tx = store.write().await.unwrap();
    let a = tx.claim_due(now, lease, "A", 2).await.unwrap();
    let b = tx.claim_due(now, lease, "B", 10).await.unwrap();
    assert_eq!((a.len(), b.len()), (2, 1));
    let ids: Vec<i64> = a.iter().chain(&b).map(|m| m.id).collect();
    assert_eq!(tx.mark_sent_all(&ids, "A", now).await.unwrap(), 2);
    assert_eq!(tx.mark_sent_all(&[], "A", now).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let held_by_b = b[0].env_to.as_str();
    for i in u.invitations(&all(None)).await.unwrap() {
        let want = if i.email == held_by_b {
            (Some(DeliveryState::Queued), None)
        } else {
            (Some(DeliveryState::Sent), Some(now.0))
        };
        assert_eq!((i.delivery, i.sent_at), want, "{}", i.email);
    }
}

#[test]
fn migrations_have_the_same_versions_on_both_backends() {
    let sqlite = Store::migration_versions(Backend::Sqlite);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, Store::migration_versions(Backend::Postgres));
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let mut tx = store.read().await.unwrap();
    let (mode, fk, timeout) = tx.sqlite_pragmas().await.unwrap().expect("a SQLite store");
    assert_eq!((mode.as_str(), fk, timeout), ("wal", 1, 30_000));
}
