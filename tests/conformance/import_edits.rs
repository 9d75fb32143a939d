//! An import's updates, suspensions and removals beyond one chunk of the bulk writer,
//! and their undo, user for user.

use usher::Usher;
use usher::domain::{UserStatus, UserType};
use usher::service::{ApplyOptions, Missing};

use crate::common::{TestDb, account};
use crate::imports::parse;

crate::on_both_backends!(
    updates_and_suspensions_beyond_a_chunk_apply_and_undo_whole,
    removals_beyond_a_chunk_apply_and_undo_whole,
);

/// More updates and suspensions than one chunk of the bulk writer (5,000): users renamed
/// by reference, guests promoted while licences last (in file order, the rest kept as
/// guests), the users missing from the file suspended; the audit chain holds, and undo
/// gives back every user exactly as they were.
async fn updates_and_suspensions_beyond_a_chunk_apply_and_undo_whole(db: &TestDb) {
    use usher::domain::UserType;
    // The administrator holds one licence: 3,000 are left for promotions.
    let (u, _clock) = account(db, 3_001).await;
    u.generate_fake_users(12_000, "acme.test").await.unwrap();
    let before = everyone(&u).await;
    assert_eq!(before.len(), 12_001);
    let mut text = String::from("unique reference,email,first name,last name,user type\n");
    for i in 1..=6_001 {
        text.push_str(&format!(
            "S-1-5-21-{i},renamed{i:05}@acme.test,New{i},Name{i},professional\n"
        ));
    }
    let opts = ApplyOptions {
        missing: Missing::Suspend,
        overflow_as_guests: true,
        ..Default::default()
    };
    let out = u.import_apply(&parse(db, &text), &opts).await.unwrap();
    assert_eq!(
        (out.updated, out.suspended, out.invited_as_guests),
        (6_001, 5_999, 3_001)
    );
    let after = everyone(&u).await;
    let by_ref = |r: &str| {
        after
            .iter()
            .find(|x| x.5.as_deref() == Some(r))
            .unwrap()
            .clone()
    };
    let first = by_ref("S-1-5-21-1");
    assert_eq!(
        (
            first.1.as_str(),
            first.2.as_str(),
            first.3.as_str(),
            first.4.as_str()
        ),
        ("renamed00001@acme.test", "New1", "Name1", "New1 Name1")
    );
    assert_eq!(by_ref("S-1-5-21-3000").6, UserType::Professional);
    assert_eq!(by_ref("S-1-5-21-3001").6, UserType::Guest);
    assert_eq!(by_ref("S-1-5-21-6001").1, "renamed06001@acme.test");
    assert_eq!(by_ref("S-1-5-21-6002").7, UserStatus::Suspended);
    assert_eq!(by_ref("S-1-5-21-6001").7, UserStatus::Active);
    // The search index follows the new addresses and names, and only those.
    let found = |u: &Usher, q: &'static str| {
        let u = u.clone();
        async move {
            let found = u.users(q, "", 10).await.unwrap();
            found.into_iter().map(|x| x.email).collect::<Vec<_>>()
        }
    };
    assert_eq!(found(&u, "renamed00042").await, ["renamed00042@acme.test"]);
    assert_eq!(found(&u, "new42 name42").await, ["renamed00042@acme.test"]);
    assert!(found(&u, "user0000042").await.is_empty());
    assert_eq!(found(&u, "user0006002").await, ["user0006002@acme.test"]);
    let check = u.verify_audit().await.unwrap();
    assert!(
        check.faults.is_empty(),
        "{:?}",
        &check.faults[..3.min(check.faults.len())]
    );

    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!((undo.restored, undo.reactivated), (6_001, 5_999));
    assert!(everyone(&u).await == before, "every user as they were");
    assert!(found(&u, "renamed00042").await.is_empty());
    assert_eq!(found(&u, "user0000042").await, ["user0000042@acme.test"]);
    let check = u.verify_audit().await.unwrap();
    assert!(
        check.faults.is_empty(),
        "{:?}",
        &check.faults[..3.min(check.faults.len())]
    );
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    UserType,
    UserStatus,
);

/// Every user of the account (up to 20,000), every importable field, by id.
async fn everyone(u: &Usher) -> Vec<Row> {
    let mut all: Vec<Row> = u
        .users("", "", 20_000)
        .await
        .unwrap()
        .into_iter()
        .map(|x| {
            (
                x.id,
                x.email,
                x.first_name,
                x.last_name,
                x.display_name,
                x.unique_ref,
                x.user_type,
                x.status,
            )
        })
        .collect();
    all.sort_by_key(|x| x.0);
    all
}

/// Removals beyond a chunk: every user missing from the file goes, with their grants, in
/// one apply; undo gives back every user exactly and every grant.
async fn removals_beyond_a_chunk_apply_and_undo_whole(db: &TestDb) {
    use usher::service::{Target, Who};
    let (u, _clock) = account(db, 10).await;
    u.generate_fake_users(12_000, "acme.test").await.unwrap();
    // Grants on users in the first chunk and in the last, one holding two.
    let holders = ["user0001001@acme.test", "user0011999@acme.test"];
    let who = |e: &str| Who::User(Target::Email(e.into()));
    u.grant(&who(holders[0]), "messages.send", None)
        .await
        .unwrap();
    u.grant(&who(holders[0]), "files.share", None)
        .await
        .unwrap();
    u.grant(&who(holders[1]), "Guest", None).await.unwrap();
    let labels = |u: &Usher| {
        let u = u.clone();
        async move {
            let mut all = Vec::new();
            for h in holders {
                let (g, _) = u.grants(&who(h)).await.unwrap();
                all.push(g.iter().map(|g| g.label()).collect::<Vec<_>>());
            }
            all
        }
    };
    let before = everyone(&u).await;
    let grants = labels(&u).await;
    assert_eq!(grants.iter().map(Vec::len).sum::<usize>(), 3);
    // The administrator and the first thousand stay.
    let mut text = String::from("email\nadmin@acme.test\n");
    for i in 1..=1_000 {
        text.push_str(&format!("user{i:07}@acme.test\n"));
    }
    let opts = ApplyOptions {
        missing: Missing::Remove,
        ..Default::default()
    };
    let out = u.import_apply(&parse(db, &text), &opts).await.unwrap();
    assert_eq!(out.removed, 11_000);
    let after = everyone(&u).await;
    assert_eq!(after.len(), 1_001);
    assert_eq!(after.last().unwrap().1, "user0001000@acme.test");
    assert!(u.users("user0011999", "", 10).await.unwrap().is_empty());
    let check = u.verify_audit().await.unwrap();
    assert!(check.faults.is_empty(), "{:?}", check.faults.first());

    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!((undo.restored, undo.kept), (11_000, 0));
    assert!(everyone(&u).await == before, "every user as they were");
    assert_eq!(labels(&u).await, grants, "every grant given back");
    assert_eq!(u.users("user0011999", "", 10).await.unwrap().len(), 1);
    let check = u.verify_audit().await.unwrap();
    assert!(check.faults.is_empty(), "{:?}", check.faults.first());
}
