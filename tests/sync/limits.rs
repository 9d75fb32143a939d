//! The safety limits: a run that would take too much away changes nothing and waits; an
//! operator approves that very run; a run whose directory changed since cannot be
//! approved; a directory that drops part-way changes nothing.

use std::sync::{Arc, Mutex};

use usher::domain::UserStatus;
use usher::error::{Clash, Kind};
use usher::import::Progress;
use usher::service::{RunOptions, RunOutcome};

use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, Slapd, person};
use crate::{apply, approving, corporate, preview, source, user};

crate::on_both_backends!(
    a_run_over_a_limit_is_held_until_approved,
    a_directory_that_drops_mid_run_changes_nothing
);

/// Ten people in the directory (`ldap` adds them) and in the account.
async fn ten(db: &TestDb, ldap: impl FnOnce(&str)) -> (usher::Usher, usher::domain::ManualClock) {
    let (u, clock) = account(db, 50).await;
    let mut ldif = String::new();
    for i in 0..10 {
        let mail = format!("p{i}@acme.test");
        ldif.push_str(&person(&format!("p{i}"), "Pat", &format!("No{i}"), &mail));
        corporate(&u, &mail, "Pat", &format!("No{i}")).await;
    }
    ldap(&ldif);
    (u, clock)
}

fn dn(i: usize) -> String {
    format!("uid=p{i},ou=people,{}", slapd::SUFFIX)
}

async fn a_run_over_a_limit_is_held_until_approved(db: &TestDb) {
    if !slapd::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ldap = Slapd::start(dir.path(), Shape::Plain);
    let (u, clock) = ten(db, |l| ldap.add(l)).await;
    let s = source(&ldap.source_toml("corp", ""));
    assert_eq!(apply(&u, &s).await.outcome, RunOutcome::Applied);

    // Four of eleven active users gone: 36 %, over the default 20 %.
    let gone: Vec<String> = (0..4).map(dn).collect();
    ldap.delete(&gone.iter().map(String::as_str).collect::<Vec<_>>());
    clock.advance_ms(60_000);
    let held = apply(&u, &s).await;
    assert_eq!(held.outcome, RunOutcome::Held);
    let why = held.held_reason.clone().unwrap();
    assert!(
        why.contains("would suspend 4 user(s)") && why.contains("over the limit of 20 %"),
        "{why}"
    );
    assert_eq!(user(&u, "p0@acme.test").await.status, UserStatus::Active);
    let runs = u.sync_history(Some("corp"), 10).await.unwrap();
    assert_eq!(
        (runs[0].id, runs[0].outcome.as_str()),
        (held.run_id, "held")
    );

    // The operator approves that run: applied as it was held.
    clock.advance_ms(60_000);
    let approved = u.sync_apply(&s, &approving(held.run_id)).await.unwrap();
    assert_eq!(approved.applied.unwrap().suspended, 4);
    assert_eq!(user(&u, "p0@acme.test").await.status, UserStatus::Suspended);
    let again = u.sync_apply(&s, &approving(held.run_id)).await.unwrap_err();
    assert_eq!(again.kind(), Kind::Conflict(Clash::State), "{again}");

    // Held, then the directory changes: that run can no longer be approved.
    ldap.delete(&[&dn(4), &dn(5)]);
    clock.advance_ms(60_000);
    let s_tight = source(&ldap.source_toml("corp", "[sync.source.limits]\nsuspend = 1\n"));
    let held = apply(&u, &s_tight).await;
    assert_eq!(held.outcome, RunOutcome::Held);
    assert!(
        held.held_reason
            .as_deref()
            .unwrap()
            .contains("over the limit of 1 by 1"),
        "{:?}",
        held.held_reason
    );
    ldap.delete(&[&dn(6)]);
    let changed = u
        .sync_apply(&s_tight, &approving(held.run_id))
        .await
        .unwrap_err();
    assert_eq!(changed.kind(), Kind::Conflict(Clash::Changed), "{changed}");
    assert_eq!(user(&u, "p4@acme.test").await.status, UserStatus::Active);
    // A preview says it would be held, and by what.
    let p = preview(&u, &s_tight).await;
    assert_eq!(p.losses.suspend, 3);
    assert!(p.held.is_some());
}

async fn a_directory_that_drops_mid_run_changes_nothing(db: &TestDb) {
    if !slapd::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ldap = Arc::new(Mutex::new(Slapd::start(dir.path(), Shape::Plain)));
    let (u, _clock) = ten(db, |l| ldap.lock().unwrap().add(l)).await;
    let toml = ldap.lock().unwrap().source_toml("corp", "page_size = 3\n");
    let s = source(&toml);
    let before = u.status().await.unwrap();
    // The server goes away once the first page is in.
    let stopper = ldap.clone();
    let progress = Progress::new(move |_, done, _| {
        if done >= 3 {
            stopper.lock().unwrap().stop();
        }
    });
    let o = RunOptions {
        progress,
        ..RunOptions::default()
    };
    let e = u.sync_apply(&s, &o).await.unwrap_err();
    assert_eq!(e.kind(), Kind::Unavailable, "{e}");
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    let after = u.status().await.unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    assert_eq!(user(&u, "p9@acme.test").await.unique_ref, None);
    let runs = u.sync_history(Some("corp"), 10).await.unwrap();
    assert_eq!(runs[0].outcome, "failed");
    assert!(runs[0].error.as_deref().unwrap().contains("127.0.0.1"));
}
