//! The audit log's hash chain (issue 8), on both backends: an untouched log verifies; a
//! row changed behind usher's back, or removed, is named by `verify_audit`.

use usher::domain::UserType;
use usher::service::AnchorState;
use usher::store::Backend;

use crate::common::{TestDb, account, invite_req};
use crate::exec_raw;

crate::on_both_backends!(
    a_changed_row_breaks_the_chain,
    a_removed_row_breaks_the_chain,
    clearing_the_hashes_is_not_before_the_chain,
    deleting_the_newest_rows_shows,
    recomputing_the_chain_shows,
    a_forged_anchor_or_a_moved_start_shows,
    an_anchor_behind_is_caught_up,
);

/// Lets the test do what the triggers forbid, as an attacker with the database would.
async fn disarm(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            exec_raw(db, "DROP TRIGGER audit_log_no_update")
                .await
                .unwrap();
            exec_raw(db, "DROP TRIGGER audit_log_no_delete")
                .await
                .unwrap();
            exec_raw(db, "DROP TRIGGER audit_chain_no_update")
                .await
                .unwrap();
        }
        Backend::Postgres => {
            exec_raw(db, "ALTER TABLE audit_log DISABLE TRIGGER USER")
                .await
                .unwrap();
            exec_raw(db, "ALTER TABLE audit_chain DISABLE TRIGGER USER")
                .await
                .unwrap();
        }
    }
}

async fn logged(db: &TestDb) -> usher::Usher {
    let (u, _clock) = account(db, 10).await;
    for a in ["a@acme.test", "b@acme.test", "c@acme.test"] {
        u.invite(&invite_req(a, UserType::Guest)).await.unwrap();
    }
    let c = u.verify_audit().await.unwrap();
    assert!(c.faults.is_empty(), "{:?}", c.faults);
    assert!(c.verified >= 4, "{c:?}");
    assert_eq!(c.head.as_ref().map(String::len), Some(64));
    u
}

async fn a_changed_row_breaks_the_chain(db: &TestDb) {
    let u = logged(db).await;
    disarm(db).await;
    exec_raw(
        db,
        "UPDATE audit_log SET actor = 'someone-else' WHERE id = 2",
    )
    .await
    .unwrap();
    let c = u.verify_audit().await.unwrap();
    assert_eq!(c.faults.len(), 1, "{:?}", c.faults);
    assert!(c.faults[0].starts_with("row 2 "), "{:?}", c.faults);
    // The appends go on: a new row links to the recorded head, still one fault.
    u.invite(&invite_req("d@acme.test", UserType::Guest))
        .await
        .unwrap();
    assert_eq!(u.verify_audit().await.unwrap().faults.len(), 1);
}

async fn a_removed_row_breaks_the_chain(db: &TestDb) {
    let u = logged(db).await;
    disarm(db).await;
    exec_raw(db, "DELETE FROM audit_log WHERE id = 3")
        .await
        .unwrap();
    let c = u.verify_audit().await.unwrap();
    assert_eq!(c.faults.len(), 1, "{:?}", c.faults);
    assert!(
        c.faults[0].starts_with("row 4 ") && c.faults[0].contains("rows 3 to 3 are not there"),
        "{:?}",
        c.faults
    );
}

/// A core whose store anchors the chain with a key in the test's directory, as every
/// command does with the config's `audit.key_file`.
async fn anchored(db: &TestDb) -> (usher::Usher, usher::Usher) {
    let (u, clock) = account(db, 10).await;
    let mut store = u.store().clone();
    let dir = db.dir.path();
    store
        .anchor_with(&dir.join("audit.key"), &dir.join("audit.anchor"))
        .await
        .unwrap();
    let plain = crate::common::core(store.clone().without_anchor(), &clock);
    let u = crate::common::core(store, &clock);
    for a in ["a@acme.test", "b@acme.test", "c@acme.test"] {
        u.invite(&invite_req(a, UserType::Guest)).await.unwrap();
    }
    let c = u.verify_audit().await.unwrap();
    assert!(c.faults.is_empty(), "{:?}", c.faults);
    assert!(
        matches!(c.anchor, AnchorState::Agrees { behind: 0, .. }),
        "{:?}",
        c.anchor
    );
    (u, plain)
}

/// Every hash cleared and a row changed: the chain began with the database, so each row
/// without a hash is a fault, anchored or not (the start is kept in the database too).
async fn clearing_the_hashes_is_not_before_the_chain(db: &TestDb) {
    let (u, plain) = anchored(db).await;
    disarm(db).await;
    exec_raw(db, "UPDATE audit_log SET hash = NULL")
        .await
        .unwrap();
    exec_raw(db, "UPDATE audit_log SET actor = 'x' WHERE id = 2")
        .await
        .unwrap();
    for c in [
        u.verify_audit().await.unwrap(),
        plain.verify_audit().await.unwrap(),
    ] {
        assert_eq!(c.before_chain, 0, "{c:?}");
        assert!(!c.faults.is_empty(), "{c:?}");
        assert!(
            c.faults.iter().any(|f| f.contains("has no hash")),
            "{:?}",
            c.faults
        );
        assert!(c.verdict().starts_with("BROKEN"), "{}", c.verdict());
    }
}

/// The newest rows deleted: the anchor names a row that is not there.
async fn deleting_the_newest_rows_shows(db: &TestDb) {
    let (u, _) = anchored(db).await;
    disarm(db).await;
    exec_raw(
        db,
        "DELETE FROM audit_log WHERE id > (SELECT MAX(id) - 2 FROM audit_log)",
    )
    .await
    .unwrap();
    let c = u.verify_audit().await.unwrap();
    assert!(matches!(c.anchor, AnchorState::Removed { .. }), "{c:?}");
    assert!(
        c.faults.iter().any(|f| f.contains("rows were deleted")),
        "{:?}",
        c.faults
    );
    assert!(c.verdict().contains("ROWS REMOVED"), "{}", c.verdict());
}

/// A row changed and the whole chain recomputed with fresh SHA-256 values: every link
/// holds, but the anchored row's hash is not the anchored one; and the chain is not
/// anchored again by `anchor_audit`.
async fn recomputing_the_chain_shows(db: &TestDb) {
    let (u, _) = anchored(db).await;
    disarm(db).await;
    exec_raw(db, "UPDATE audit_log SET actor = 'x' WHERE id = 2")
        .await
        .unwrap();
    let rows = u
        .store()
        .read()
        .await
        .unwrap()
        .audit_chain(0, 1000)
        .await
        .unwrap();
    let mut prev = String::new();
    for r in rows {
        let e = &r.entry;
        let h = usher::store::chain_hash(&prev, e.at, &e.actor, &e.action, &e.target, &e.details);
        exec_raw(
            db,
            &format!("UPDATE audit_log SET hash = '{h}' WHERE id = {}", e.id),
        )
        .await
        .unwrap();
        prev = h;
    }
    let c = u.verify_audit().await.unwrap();
    assert!(matches!(c.anchor, AnchorState::Rewritten { .. }), "{c:?}");
    assert_eq!(c.faults.len(), 1, "{:?}", c.faults);
    assert!(c.verdict().contains("CHAIN REWRITTEN"), "{}", c.verdict());
    let refused = u.anchor_audit().await.unwrap_err().to_string();
    assert!(refused.contains("not anchored"), "{refused}");
    let again = u.verify_audit().await.unwrap();
    assert!(
        matches!(again.anchor, AnchorState::Rewritten { .. }),
        "{again:?}"
    );
}

/// The anchor's file edited (a later row claimed), and the chain's start moved in the
/// database: both named.
async fn a_forged_anchor_or_a_moved_start_shows(db: &TestDb) {
    let (u, _) = anchored(db).await;
    let file = db.dir.path().join("audit.anchor");
    let text = std::fs::read_to_string(&file).unwrap();
    let row = u.verify_audit().await.unwrap();
    let AnchorState::Agrees { row: at, .. } = row.anchor else {
        panic!("{row:?}")
    };
    std::fs::write(&file, text.replace(&format!("\"row\":{at}"), "\"row\":1")).unwrap();
    let c = u.verify_audit().await.unwrap();
    assert!(matches!(c.anchor, AnchorState::Forged { .. }), "{c:?}");
    assert!(c.verdict().contains("FORGED"), "{}", c.verdict());
    std::fs::write(&file, text).unwrap();

    disarm(db).await;
    exec_raw(db, "UPDATE audit_chain SET started_at = 1000")
        .await
        .unwrap();
    exec_raw(db, "UPDATE audit_log SET hash = NULL WHERE id = 1")
        .await
        .unwrap();
    let c = u.verify_audit().await.unwrap();
    assert!(
        c.faults.iter().any(|f| f.contains("start was moved")),
        "{:?}",
        c.faults
    );
    assert!(
        c.faults.iter().any(|f| f.contains("row 1 ")),
        "{:?}",
        c.faults
    );
}

/// Changes made where the key cannot be read leave the anchor behind, which is said, not
/// a fault; `anchor_audit` catches it up after checking the rows since.
async fn an_anchor_behind_is_caught_up(db: &TestDb) {
    let (u, plain) = anchored(db).await;
    plain
        .invite(&invite_req("d@acme.test", UserType::Guest))
        .await
        .unwrap();
    let c = u.verify_audit().await.unwrap();
    assert!(c.faults.is_empty(), "{:?}", c.faults);
    assert!(
        matches!(c.anchor, AnchorState::Agrees { behind, .. } if behind >= 1),
        "{c:?}"
    );
    let row = u.anchor_audit().await.unwrap().unwrap();
    let c = u.verify_audit().await.unwrap();
    assert!(
        matches!(c.anchor, AnchorState::Agrees { row: r, behind: 0, .. } if r == row),
        "{c:?}"
    );
}
