//! The schedule and incremental runs: a source with an interval runs when due, reads only
//! what changed since (OpenLDAP's modifyTimestamp) so that no one counts as gone, and
//! reads everything again once its full interval has passed, which is when leavers show.

use std::time::Duration;

use usher::service::{Due, RunOutcome};

use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, Slapd, person};
use crate::{NO_LIMITS, changes_of, preview, source};

crate::on_both_backends!(scheduled_runs_read_what_changed_and_sometimes_everything);

fn rename(ldap: &Slapd, uid: &str, sn: &str) {
    ldap.modify(&format!(
        "dn: uid={uid},ou=people,{}\nchangetype: modify\nreplace: sn\nsn: {sn}\n",
        slapd::SUFFIX
    ));
}

async fn scheduled_runs_read_what_changed_and_sometimes_everything(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[
            person("ann", "Ann", "Lee", "ann@acme.test"),
            person("bob", "Bob", "Ng", "bob@acme.test"),
            person("cy", "Cy", "Oh", "cy@acme.test"),
        ],
    ) else {
        return;
    };
    let (u, clock) = account(db, 20).await;
    let s = source(&ldap.source_toml(
        "corp",
        &format!("interval_minutes = 10\nfull_interval_hours = 24\n{NO_LIMITS}"),
    ));
    // modifyTimestamp counts seconds: Bob's change is a second after the others.
    std::thread::sleep(Duration::from_millis(1100));
    rename(&ldap, "bob", "Ngata");

    assert_eq!(u.sync_due(&s).await.unwrap(), Some(Due::Full));
    let ran = u.sync_scheduled(std::slice::from_ref(&s)).await;
    let first = ran[0].1.as_ref().unwrap();
    assert_eq!((first.scope, first.outcome), ("full", RunOutcome::Applied));
    assert_eq!(first.applied.as_ref().unwrap().invited, 3);
    assert_eq!(u.sync_due(&s).await.unwrap(), None, "not due yet");

    std::thread::sleep(Duration::from_millis(1100));
    rename(&ldap, "ann", "Lee-Smith");
    ldap.delete(&[&format!("uid=cy,ou=people,{}", slapd::SUFFIX)]);
    clock.advance_ms(11 * 60_000);
    assert_eq!(u.sync_due(&s).await.unwrap(), Some(Due::Changes));
    let ran = u.sync_scheduled(std::slice::from_ref(&s)).await;
    let inc = ran[0].1.as_ref().unwrap();
    assert_eq!(inc.scope, "changes");
    // Bob (at the cursor's second) and Ann; Cy is gone but no incremental read says so.
    assert_eq!(inc.entries, 2);
    let out = inc.applied.as_ref().unwrap();
    assert_eq!((out.invitations_updated, out.invitations_revoked), (1, 0));
    let runs = u.sync_history(Some("corp"), 10).await.unwrap();
    assert!(
        runs[0].actor.ends_with("(sync schedule)"),
        "{}",
        runs[0].actor
    );

    // A day on, a full read: Cy's invitation goes.
    clock.advance_ms(25 * 3_600_000);
    assert_eq!(u.sync_due(&s).await.unwrap(), Some(Due::Full));
    let p = preview(&u, &s).await;
    assert!(
        changes_of(&p, "cy@acme.test")
            .iter()
            .any(|c| c.contains("not enrolled"))
    );
    let ran = u.sync_scheduled(std::slice::from_ref(&s)).await;
    let full = ran[0].1.as_ref().unwrap();
    assert_eq!(full.scope, "full");
    assert_eq!(full.applied.as_ref().unwrap().invitations_revoked, 1);
}
