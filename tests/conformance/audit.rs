//! The audit log's hash chain (issue 8), on both backends: an untouched log verifies; a
//! row changed behind usher's back, or removed, is named by `verify_audit`.

use usher::domain::UserType;
use usher::store::Backend;

use crate::common::{TestDb, account, invite_req};
use crate::exec_raw;

crate::on_both_backends!(
    a_changed_row_breaks_the_chain,
    a_removed_row_breaks_the_chain,
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
        }
        Backend::Postgres => {
            exec_raw(db, "ALTER TABLE audit_log DISABLE TRIGGER USER")
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
