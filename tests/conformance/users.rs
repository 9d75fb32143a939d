//! Users: type and status changes, search and paging.

use crate::common::{TestDb, account, invite_req};
use usher::domain::{UserStatus, UserType};
use usher::service::Target;
use usher::{Clash, Error};

crate::on_both_backends!(
    import_preview_sorts_every_row_into_its_bucket,
    users_search_by_address_or_name,
    user_type_and_status_changes_respect_licences,
    search_uses_the_trigram_index_or_the_address_order,
);

async fn users_search_by_address_or_name(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    crate::seed(
        &u,
        &[
            ("zoe@acme.test", "Zoë", "Ørsted", None),
            ("bob@acme.test", "Bob", "Percent%", None),
            ("carl@acme.test", "Carl", "Smith", None),
            ("dan@acme.test", "Dan", "O'Brien\\Ward", None),
        ],
    )
    .await;
    let emails = |v: Vec<usher::store::User>| v.into_iter().map(|u| u.email).collect::<Vec<_>>();
    assert_eq!(
        emails(u.users("", "", 100).await.unwrap()),
        [
            "admin@acme.test",
            "bob@acme.test",
            "carl@acme.test",
            "dan@acme.test",
            "zoe@acme.test"
        ]
    );
    // A quote and a backslash are searched for as they are (PostgreSQL's searches carry
    // their pattern written into the statement).
    assert_eq!(
        emails(u.users("o'brien\\w", "", 100).await.unwrap()),
        ["dan@acme.test"]
    );
    assert_eq!(
        emails(u.users("'", "carl@acme.test'", 100).await.unwrap()),
        ["dan@acme.test"]
    );
    assert_eq!(
        emails(u.users("SMITH", "", 100).await.unwrap()),
        ["carl@acme.test"]
    );
    assert_eq!(
        emails(u.users("zoe@", "", 100).await.unwrap()),
        ["zoe@acme.test"]
    );
    assert_eq!(
        emails(u.users("%", "", 100).await.unwrap()),
        ["bob@acme.test"],
        "LIKE wildcards are literal"
    );
    assert_eq!(
        emails(u.users("", "bob@acme.test", 2).await.unwrap()),
        ["carl@acme.test", "dan@acme.test"],
        "keyset paging"
    );
    assert_eq!(u.status().await.unwrap().users, 5);
}

async fn user_type_and_status_changes_respect_licences(db: &TestDb) {
    let (u, _clock) = account(db, 2).await; // the admin holds one seat
    crate::seed(
        &u,
        &[
            ("g1@acme.test", "G", "", None),
            ("g2@acme.test", "G", "", None),
        ],
    )
    .await;
    let g1 = Target::Email("g1@acme.test".into());
    let g2 = Target::Email("G2@acme.test".into());
    assert_eq!(
        u.set_user_type(&g1, UserType::Professional)
            .await
            .unwrap()
            .user_type,
        UserType::Professional
    );
    let e = u
        .set_user_type(&g2, UserType::Professional)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Seats(_)), "{e}");
    // Suspending frees the seat; reactivating a professional needs one again.
    assert_eq!(
        u.suspend_user(&g1).await.unwrap().status,
        UserStatus::Suspended
    );
    assert_eq!(u.status().await.unwrap().licences_used, 1);
    u.set_user_type(&g2, UserType::Professional).await.unwrap();
    assert!(matches!(u.reactivate_user(&g1).await, Err(Error::Seats(_))));
    assert!(matches!(
        u.suspend_user(&g1).await,
        Err(Error::Conflict {
            with: Clash::State,
            ..
        })
    ));
    u.set_user_type(&g2, UserType::Guest).await.unwrap();
    assert_eq!(
        u.reactivate_user(&g1).await.unwrap().status,
        UserStatus::Active
    );
    // Removal deletes the user and the audit log keeps who they were.
    let removed = u.remove_user(&g2).await.unwrap();
    assert!(matches!(
        u.user_detail(&Target::Id(removed.id)).await,
        Err(Error::NotFound(_))
    ));
    let audit = u.audit(1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].target.as_str()),
        (
            "user.remove",
            format!("user:{} g2@acme.test", removed.id).as_str()
        )
    );
    let actions: Vec<String> = u
        .audit(100)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in ["user.set_type", "user.suspend", "user.reactivate"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    // The detail lists the invitations sent to the address.
    u.invite(&invite_req("new@acme.test", UserType::Guest))
        .await
        .unwrap();
    let d = u
        .user_detail(&Target::Email("admin@acme.test".into()))
        .await
        .unwrap();
    assert!(d.invitations.is_empty());
}

async fn search_uses_the_trigram_index_or_the_address_order(db: &TestDb) {
    let (u, clock) = account(db, 5).await;
    // 12,000 users: "user" and "example" are in every address (dense), "0004321" in one.
    assert_eq!(
        u.generate_fake_users(12_000, "example.test").await.unwrap(),
        12_000
    );
    assert_eq!(u.status().await.unwrap().users, 12_001);
    let emails = |v: Vec<usher::store::User>| v.into_iter().map(|u| u.email).collect::<Vec<_>>();
    assert_eq!(
        emails(u.users("0004321", "", 10).await.unwrap()),
        ["user0004321@example.test"]
    );
    // Dense: the first page in address order, and keyset paging goes on from it.
    let page = emails(u.users("example", "", 3).await.unwrap());
    // (Numbering goes on from the users already there: the admin is the first.)
    assert_eq!(
        page,
        [
            "user0000001@example.test",
            "user0000002@example.test",
            "user0000003@example.test"
        ]
    );
    let next = emails(u.users("example", &page[2], 2).await.unwrap());
    assert_eq!(
        next,
        ["user0000004@example.test", "user0000005@example.test"]
    );
    // A name, in another case: selective (one surname and number).
    let tanaka = u.users("TANAKA17", "", 100).await.unwrap();
    assert!(
        !tanaka.is_empty()
            && tanaka
                .iter()
                .all(|u| u.display_name.to_lowercase().contains("tanaka17"))
    );
    assert!(
        tanaka.windows(2).all(|w| w[0].email < w[1].email),
        "in address order"
    );
    // The last page, and the page before an address, under a search too.
    let last = emails(u.users_before("", "", 2).await.unwrap());
    assert_eq!(
        last,
        ["user0011999@example.test", "user0012000@example.test"]
    );
    let before = emails(
        u.users_before("000432", "user0004321@example.test", 5)
            .await
            .unwrap(),
    );
    assert_eq!(
        before,
        ["user0000432@example.test", "user0004320@example.test"]
    );
    // A trigram nobody has: no match, at once. Upper case and a name with a space.
    assert!(u.users("zzz", "", 10).await.unwrap().is_empty());
    let spaced = u.users("Hana Silva", "", 500).await.unwrap();
    assert!(
        !spaced.is_empty()
            && spaced
                .iter()
                .all(|u| u.display_name.starts_with("Hana Silva"))
    );
    // Whichever way a search goes, paging through it forwards and backwards gives
    // exactly the users a plain scan finds, in address order.
    let everyone = u.users("", "", 20_000).await.unwrap();
    for search in [
        "example", "user000", "tanaka17", "ann", "00432", "a", "hana s", "1@",
    ] {
        let want: Vec<String> = everyone
            .iter()
            .filter(|x| x.email.contains(search) || x.display_name.to_lowercase().contains(search))
            .map(|x| x.email.clone())
            .collect();
        let mut forward: Vec<String> = Vec::new();
        loop {
            let after = forward.last().cloned().unwrap_or_default();
            let page = emails(u.users(search, &after, 700).await.unwrap());
            if page.is_empty() {
                break;
            }
            forward.extend(page);
        }
        assert_eq!(forward, want, "forward through {search:?}");
        let mut backward: Vec<String> = Vec::new();
        loop {
            let before = backward.first().cloned().unwrap_or_default();
            let page = emails(u.users_before(search, &before, 700).await.unwrap());
            if page.is_empty() || (!before.is_empty() && page.last() >= Some(&before)) {
                break;
            }
            backward.splice(0..0, page);
            if backward.first().map(String::as_str) == want.first().map(String::as_str) {
                break;
            }
        }
        assert_eq!(backward, want, "backward through {search:?}");
    }
    // PostgreSQL under generic plans (what it may choose after five runs of a statement)
    // finds the same users.
    if db.backend == usher::store::Backend::Postgres {
        let url = format!("{}&options[plan_cache_mode]=force_generic_plan", db.url);
        let store = usher::store::Store::open(&url, &Default::default())
            .await
            .unwrap();
        let generic = crate::common::core(store, &clock);
        for search in ["0004321", "tanaka17", "example", "zzz"] {
            for _ in 0..7 {
                assert_eq!(
                    emails(generic.users(search, "", 50).await.unwrap()),
                    emails(u.users(search, "", 50).await.unwrap()),
                    "{search:?} under a generic plan"
                );
            }
        }
    }
    // The index follows changes: a removed user is no longer found.
    u.remove_user(&Target::Email("user0004321@example.test".into()))
        .await
        .unwrap();
    assert!(u.users("0004321", "", 10).await.unwrap().is_empty());
}

async fn import_preview_sorts_every_row_into_its_bucket(db: &TestDb) {
    use usher::import::plan::Bucket;
    let (u, _clock) = account(db, 2).await; // the admin holds one seat, one is free
    crate::seed(
        &u,
        &[
            ("lee@acme.test", "Ann", "Lee", Some("R1")),
            ("old.name@acme.test", "Bob", "Old", Some("R2")),
            ("same@acme.test", "Cy", "Same", None),
            ("gone@acme.test", "Di", "Gone", None),
            ("other@acme.test", "Ed", "Other", Some("R3")),
        ],
    )
    .await;
    u.invite(&invite_req("invited@acme.test", UserType::Guest))
        .await
        .unwrap();
    let csv = db.dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "email,first_name,last_name,unique_ref,user_type\n\
         lee@acme.test,Ann,Smith,R1,\n\
         new.name@acme.test,Bob,Old,R2,\n\
         same@acme.test,Cy,Same,,\n\
         invited@acme.test,Test,Person,,\n\
         new1@acme.test,N,One,,\n\
         new2@acme.test,N,Two,,\n\
         new3@acme.test,N,Three,,guest\n\
         x@elsewhere.test,Out,Side,,\n\
         same@acme.test,Cy,Again,R9,\n\
         gone@acme.test,Di,Gone,R3,\n",
    )
    .unwrap();
    let parsed = usher::import::parse_file(&csv, &Default::default(), &[]).unwrap();
    let plan = u.import_preview(std::sync::Arc::new(parsed)).await.unwrap();
    let count = |b: Bucket| plan.counts[&b];
    assert_eq!(
        (
            count(Bucket::New),
            count(Bucket::Pending),
            count(Bucket::Updated),
            count(Bucket::Unchanged)
        ),
        (3, 1, 2, 1)
    );
    assert_eq!(
        (count(Bucket::OutsideDomains), count(Bucket::Error)),
        (1, 2)
    );
    // Missing: the admin and gone@ are not in the file.
    let missing: Vec<String> = plan
        .rows()
        .filter(|r| r.bucket == Bucket::Missing)
        .map(|r| r.email)
        .collect();
    assert_eq!(
        missing,
        ["admin@acme.test", "gone@acme.test", "other@acme.test"]
    );
    let row = |n: u64| plan.rows().find(|r| r.row == Some(n)).unwrap();
    assert_eq!(row(2).changes, ["last name: Lee → Smith"]);
    // The pending invitation, with nothing to change: already invited.
    assert_eq!(row(5).bucket, Bucket::Pending);
    assert!(row(5).invitation_id.is_some());
    assert_eq!(
        row(3).changes,
        ["address: old.name@acme.test → new.name@acme.test"],
        "same reference: an update"
    );
    assert!(
        row(10)
            .reason
            .as_deref()
            .unwrap()
            .contains("appears again (first at row 4)")
    );
    let clash = row(11).reason.unwrap();
    assert!(
        clash.contains(
            "'R3' belongs to other@acme.test but the address gone@acme.test to another user"
        ),
        "{clash}"
    );
    // Two new professionals (new3 is a guest) for one free seat: one short.
    assert_eq!((plan.licences.wanted, plan.licences.short_by), (2, 1));
    // Nothing changed.
    assert_eq!(u.status().await.unwrap().users, 6);
}
