//! A second export over pending invitations (issue 21, item 6): a pending invitation
//! keeps the file's unique reference and names, so the next export of the same
//! directory finds it. A new address under the same reference replaces it (the old link
//! dies, a new one is mailed), new names update it, an expired one is sent again, and a
//! leaver's is listed with the missing and revoked by the missing-users decision. Undo
//! puts every invitation back as it was.

use usher::Error;
use usher::Usher;
use usher::config::Secret;
use usher::domain::InvitationStatus;
use usher::import::Parsed;
use usher::import::plan::Bucket;
use usher::service::{ApplyOptions, ApplyOutcome, Enrolment, Missing};
use usher::store::InvitationFilter;

use crate::common::{TestDb, account};
use crate::import_mail::{link_token, spool_sender, spooled};
use crate::imports::parse;

crate::on_both_backends!(
    a_second_export_follows_pending_invitations_by_reference,
    an_expired_invitation_in_the_next_export_is_sent_again,
    a_second_export_of_a_hundred_thousand_people,
    a_reference_of_one_invitation_with_the_address_of_another_is_an_error,
    with_inviting_switched_off_names_change_but_nothing_is_sent_again,
);

/// Sending an invitation again to a new address is inviting: refused while inviting is
/// switched off, when changing names is not.
async fn with_inviting_switched_off_names_change_but_nothing_is_sent_again(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.import_apply(&parse(db, FIRST), &ApplyOptions::default())
        .await
        .unwrap();
    u.set_invitations_enabled(false).await.unwrap();
    let moved = parse(
        db,
        "mail,givenName,sn,objectSid\nann.new@acme.test,Ann,Lee,S-1-5-21-1\n",
    );
    let refused = u.import_apply(&moved, &ApplyOptions::default()).await;
    assert!(refused.is_err(), "{refused:?}");
    let renamed = parse(
        db,
        "mail,givenName,sn,objectSid\nbob@acme.test,Bob,Newname,S-1-5-21-2\n",
    );
    let out = u
        .import_apply(&renamed, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invitations_updated, 1);
}

/// As with users: a row whose reference is one person's and address another's is
/// refused, naming both, and the two invitations stay as they are.
async fn a_reference_of_one_invitation_with_the_address_of_another_is_an_error(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.import_apply(&parse(db, FIRST), &ApplyOptions::default())
        .await
        .unwrap();
    let file = "mail,givenName,sn,objectSid\nbob@acme.test,Bob,Old,S-1-5-21-1\n";
    let plan = u
        .import_preview(std::sync::Arc::new(parse(db, file)))
        .await
        .unwrap();
    assert_eq!(plan.counts[&Bucket::Error], 1);
    let reason = plan
        .rows()
        .find(|r| r.row == Some(2))
        .unwrap()
        .reason
        .unwrap();
    assert!(
        reason.contains(
            "'S-1-5-21-1' belongs to ann.old@acme.test but the address bob@acme.test to another pending invitation"
        ),
        "{reason}"
    );
    // The faulty row matches no one: both are missing from the file, as users would be.
    let missing: Vec<String> = plan
        .rows()
        .filter(|r| r.bucket == Bucket::Missing)
        .map(|r| r.email)
        .collect();
    assert_eq!(
        missing,
        [
            "admin@acme.test",
            "ann.old@acme.test",
            "bob@acme.test",
            "cy@acme.test",
            "di@acme.test",
            "ed@acme.test"
        ]
    );
}

/// Pending invitations as (address, first name, last name, reference), by address.
async fn pending(u: &Usher) -> Vec<(String, String, String, Option<String>)> {
    let mut list: Vec<_> = u
        .invitations(&InvitationFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.status == InvitationStatus::Pending)
        .map(|i| (i.email, i.first_name, i.last_name, i.unique_ref))
        .collect();
    list.sort();
    list
}

fn person(
    email: &str,
    first: &str,
    last: &str,
    r: &str,
) -> (String, String, String, Option<String>) {
    (email.into(), first.into(), last.into(), Some(r.into()))
}

/// Applies exactly the plan previewed (its digest), suspending the missing.
async fn apply_suspending(u: &Usher, parsed: &Parsed, digest: &str) -> ApplyOutcome {
    let opts = ApplyOptions {
        missing: Missing::Suspend,
        expect_digest: Some(digest.to_owned()),
        ..Default::default()
    };
    u.import_apply(parsed, &opts).await.unwrap()
}

/// The link's token in the message sent to `to`.
fn token_for(messages: &[String], to: &str) -> String {
    let m = messages
        .iter()
        .find(|m| m.contains(&format!("<{to}>\r\n")))
        .unwrap_or_else(|| panic!("no message to {to}"));
    link_token(m)
}

const FIRST: &str = "mail,givenName,sn,objectSid\n\
    ann.old@acme.test,Ann,Lee,S-1-5-21-1\n\
    bob@acme.test,Bob,Old,S-1-5-21-2\n\
    cy@acme.test,Cy,Same,S-1-5-21-3\n\
    di@acme.test,Di,Gone,S-1-5-21-4\n\
    ed@acme.test,Ed,Gone,S-1-5-21-5\n";

/// Ann changed address, Bob changed name, Cy is as before, Di and Ed left, Flo is new.
const SECOND: &str = "mail,givenName,sn,objectSid\n\
    flo@acme.test,Flo,New,S-1-5-21-6\n\
    cy@acme.test,Cy,Same,S-1-5-21-3\n\
    bob@acme.test,Bob,Newname,S-1-5-21-2\n\
    ann.new@acme.test,Ann,Lee,S-1-5-21-1\n";

async fn a_second_export_follows_pending_invitations_by_reference(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    let first = u
        .import_apply(&parse(db, FIRST), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(first.invited, 5);
    let (sender, spool) = spool_sender(db, &u, &clock);
    assert_eq!(sender.run_once().await.unwrap().sent, 5);
    let old_link = token_for(&spooled(&spool), "ann.old@acme.test");
    let before = pending(&u).await;
    assert_eq!(
        before[0],
        person("ann.old@acme.test", "Ann", "Lee", "S-1-5-21-1")
    );

    let second = std::sync::Arc::new(parse(db, SECOND));
    let plan = u.import_preview(second.clone()).await.unwrap();
    let count = |b: Bucket| plan.counts[&b];
    assert_eq!(
        (
            count(Bucket::New),
            count(Bucket::Updated),
            count(Bucket::Pending)
        ),
        (1, 2, 1)
    );
    let missing: Vec<String> = plan
        .rows()
        .filter(|r| r.bucket == Bucket::Missing)
        .map(|r| r.email)
        .collect();
    assert_eq!(missing, ["admin@acme.test", "di@acme.test", "ed@acme.test"]);
    let row = |n: u64| plan.rows().find(|r| r.row == Some(n)).unwrap();
    assert_eq!(
        row(5).changes,
        [
            "address: ann.old@acme.test → ann.new@acme.test (a new invitation replaces the pending one)"
        ]
    );
    assert_eq!(row(4).changes, ["last name: Old → Newname"]);
    assert!(row(4).invitation_id.is_some() && row(4).user_id.is_none());
    // Replacing Ann's professional invitation frees the seat it takes: only Flo's is new.
    assert_eq!(plan.licences.wanted, 1);

    let out = apply_suspending(&u, &second, &plan.digest).await;
    assert_eq!(
        (
            out.invited,
            out.reinvited,
            out.invitations_updated,
            out.invitations_revoked,
            out.suspended
        ),
        (1, 1, 1, 2, 0),
        "{out:?}"
    );
    assert_eq!(
        pending(&u).await,
        [
            person("ann.new@acme.test", "Ann", "Lee", "S-1-5-21-1"),
            person("bob@acme.test", "Bob", "Newname", "S-1-5-21-2"),
            person("cy@acme.test", "Cy", "Same", "S-1-5-21-3"),
            person("flo@acme.test", "Flo", "New", "S-1-5-21-6"),
        ]
    );
    // The same export again changes nothing.
    let again = u.import_preview(second.clone()).await.unwrap();
    assert_eq!(
        (
            again.counts[&Bucket::Updated],
            again.counts[&Bucket::Pending]
        ),
        (0, 4)
    );

    // The old link is dead; the new one is mailed, and the person who enrols through it
    // keeps the reference.
    let enrol = || Enrolment {
        display_name: "Ann Lee".into(),
        password: Secret::new("a long enough passphrase"),
        personal_mailbox: false,
    };
    assert!(matches!(
        u.accept_invitation(&old_link, &enrol()).await,
        Err(Error::LinkUnusable)
    ));
    assert_eq!(sender.run_once().await.unwrap().sent, 2, "Ann's and Flo's");
    let new_link = token_for(&spooled(&spool), "ann.new@acme.test");
    u.accept_invitation(&new_link, &enrol()).await.unwrap();
    let ann = u
        .users("ann.new", "", 10)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(ann.unique_ref.as_deref(), Some("S-1-5-21-1"));
    // A third export finds Ann as a user now, by her reference.
    let third = u.import_preview(second).await.unwrap();
    assert_eq!(third.counts[&Bucket::Unchanged], 1);
    assert_eq!(third.counts[&Bucket::Pending], 3);

    // Undo of the second import: every invitation as it was, Ann's old one too (her
    // enrolment through the new one is left alone: it is hers now).
    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!(
        (undo.reopened, undo.invitations_restored),
        (3, 1),
        "{undo:?}"
    );
    let mut expected = before.clone();
    expected.retain(|p| p.0 != "ann.old@acme.test");
    let mut now = pending(&u).await;
    now.retain(|p| p.0 != "ann.old@acme.test");
    assert_eq!(now, expected);
}

/// An expired invitation is not "already invited": the row sends a new one in its place
/// (the unique index of pending addresses allows one at a time), taking a licence again.
async fn an_expired_invitation_in_the_next_export_is_sent_again(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    let file = std::sync::Arc::new(parse(db, FIRST));
    u.import_apply(&file, &ApplyOptions::default())
        .await
        .unwrap();
    clock.advance_days(11);
    let plan = u.import_preview(file.clone()).await.unwrap();
    assert_eq!(plan.counts[&Bucket::Updated], 5);
    assert_eq!(
        plan.licences.wanted, 5,
        "expired invitations hold no licence"
    );
    let row = plan.rows().find(|r| r.row == Some(2)).unwrap();
    assert_eq!(row.changes, ["invitation expired: a new one is sent"]);
    let out = u
        .import_apply(&file, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!((out.invited, out.reinvited), (0, 5));
    let now = pending(&u).await;
    assert_eq!(now.len(), 5);
    assert_eq!(
        now[0],
        person("ann.old@acme.test", "Ann", "Lee", "S-1-5-21-1")
    );
    // Undo puts the expired ones back, and they count as expired again.
    u.import_undo(out.batch_id).await.unwrap();
    let all = u.invitations(&InvitationFilter::default()).await.unwrap();
    let expired = all
        .iter()
        .filter(|i| i.status == InvitationStatus::Expired)
        .count();
    assert_eq!(expired, 5);
}

/// A directory of 100,000 people, invited by a first export; in the second, shuffled:
/// 10,000 changed address, 10,000 changed name, 10,000 left, 5,000 are new, the rest as
/// they were. Every count is what a sysadmin expects, and undo restores the first state.
async fn a_second_export_of_a_hundred_thousand_people(db: &TestDb) {
    const N: usize = 100_000;
    let (u, _clock) = account(db, 200_000).await;
    let line = |i: usize, email: &str, last: &str| format!("{email},P{i},{last},S-1-5-21-{i}\n");
    let mut first = String::from("mail,givenName,sn,objectSid\n");
    for i in 0..N {
        first.push_str(&line(i, &format!("p{i}@acme.test"), "Lee"));
    }
    let out = u
        .import_apply(&parse(db, &first), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, N);
    drop(first);

    // Shuffled by a fixed permutation (a multiplier prime to N), not in file order.
    let mut second = String::from("mail,givenName,sn,objectSid\n");
    for k in 0..N + 5_000 {
        let i = (k * 7_919) % (N + 5_000);
        match i {
            i if i >= N => second.push_str(&line(i, &format!("p{i}@acme.test"), "New")),
            i if i % 10 == 1 => second.push_str(&line(i, &format!("moved{i}@acme.test"), "Lee")),
            i if i % 10 == 2 => second.push_str(&line(i, &format!("p{i}@acme.test"), "Wed")),
            i if i % 10 == 3 => {}
            i => second.push_str(&line(i, &format!("p{i}@acme.test"), "Lee")),
        }
    }
    let second = std::sync::Arc::new(parse(db, &second));
    let plan = u.import_preview(second.clone()).await.unwrap();
    let count = |b: Bucket| plan.counts[&b];
    assert_eq!(
        (
            count(Bucket::New),
            count(Bucket::Updated),
            count(Bucket::Pending),
            count(Bucket::Missing),
            count(Bucket::Error)
        ),
        (5_000, 20_000, 70_000, 10_001, 0),
        "the administrator is missing too"
    );
    let out = apply_suspending(&u, &second, &plan.digest).await;
    assert_eq!(
        (
            out.invited,
            out.reinvited,
            out.invitations_updated,
            out.invitations_revoked
        ),
        (5_000, 10_000, 10_000, 10_000)
    );
    let status = u.status().await.unwrap();
    assert_eq!(status.pending_invitations, (N + 5_000 - 10_000) as i64);
    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!(
        (undo.revoked, undo.reopened, undo.invitations_restored),
        (15_000, 20_000, 10_000)
    );
    assert_eq!(u.status().await.unwrap().pending_invitations, N as i64);
    let again = u.import_preview(second).await.unwrap();
    assert_eq!(again.digest, plan.digest, "the account is as it was");
}
