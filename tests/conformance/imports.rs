//! Applying an import, whole or not at all, and undoing it. The import's mail is in
//! `import_mail`, updates, suspensions and removals at scale in `import_edits`.

use usher::Usher;
use usher::domain::{InvitationStatus, UserStatus, UserType};
use usher::import::Parsed;
use usher::service::{ApplyOptions, Missing};
use usher::store::InvitationFilter;
use usher::{Clash, Error};

use crate::common::{TestDb, account};
use crate::seed;

crate::on_both_backends!(
    passwords_create_active_users_and_exclusions_leave_rows_out,
    apply_then_undo_leaves_the_account_as_it_was,
    apply_refuses_errors_licences_and_a_changed_plan,
    a_missing_user_left_out_by_address_is_not_suspended,
    the_plan_reads_every_user_of_an_account_larger_than_a_chunk,
    licences_go_in_file_order_and_invitations_are_written_by_address,
);

/// The apply writes invitations in address order (their index grows in order), but the
/// licences left go to the first rows of the file, as the preview said.
async fn licences_go_in_file_order_and_invitations_are_written_by_address(db: &TestDb) {
    let (u, _clock) = account(db, 3).await; // the admin holds one; two free
    let file = parse(db, "email\nzed@acme.test\nmay@acme.test\nabe@acme.test\n");
    let out = apply_overflowing_as_guests(&u, &file).await;
    assert_eq!((out.invited, out.invited_as_guests), (3, 1));
    let mut invs = u.invitations(&InvitationFilter::default()).await.unwrap();
    invs.sort_by_key(|i| i.id);
    let got: Vec<(&str, UserType)> = invs
        .iter()
        .map(|i| (i.email.as_str(), i.user_type))
        .collect();
    assert_eq!(
        got,
        [
            ("abe@acme.test", UserType::Guest),
            ("may@acme.test", UserType::Professional),
            ("zed@acme.test", UserType::Professional),
        ]
    );
}

/// The account's users are read 10,000 at a time: none may be lost between chunks.
async fn the_plan_reads_every_user_of_an_account_larger_than_a_chunk(db: &TestDb) {
    use usher::import::plan::Bucket;
    let (u, _clock) = account(db, 10).await;
    u.generate_fake_users(20_001, "acme.test").await.unwrap();
    // One row per chunk boundary and the last user: matched, so not missing.
    let parsed = std::sync::Arc::new(parse(
        db,
        "email\nuser0009999@acme.test\nuser0010000@acme.test\nuser0020000@acme.test\n",
    ));
    let plan = u.import_preview(parsed).await.unwrap();
    assert_eq!(plan.counts[&Bucket::Unchanged], 3);
    assert_eq!(plan.counts[&Bucket::New], 0);
    // The 20,001 made-up users and the administrator, less the three in the file.
    assert_eq!(plan.counts[&Bucket::Missing], 20_001 + 1 - 3);
}

async fn a_missing_user_left_out_by_address_is_not_suspended(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(
        &u,
        &[
            ("gone1@acme.test", "Di", "One", None),
            ("gone2@acme.test", "Di", "Two", None),
            ("Zoë.Ünal@acme.test", "Zoë", "Ünal", None),
        ],
    )
    .await;
    let parsed = parse(db, "email\nadmin@acme.test\n");
    let opts = ApplyOptions {
        missing: Missing::Suspend,
        exclude_emails: vec!["GONE1@acme.test".into(), "ZOË.ÜNAL@ACME.TEST".into()],
        ..Default::default()
    };
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    assert_eq!(out.suspended, 1);
    let status = |e: &'static str| {
        let u = u.clone();
        async move {
            u.users("", "", 100)
                .await
                .unwrap()
                .into_iter()
                .find(|x| x.email == e)
                .unwrap()
                .status
        }
    };
    assert_eq!(status("gone1@acme.test").await, UserStatus::Active);
    assert_eq!(status("gone2@acme.test").await, UserStatus::Suspended);
}

/// A big import grows SQLite's WAL past its limit; once checkpointed, the next write
/// cuts the file back, so a long-running `usher serve` keeps no gigabyte WAL on disk.
#[tokio::test]
async fn sqlite_cuts_the_wal_back_after_a_big_import() {
    let db = TestDb::sqlite();
    let (u, _clock) = account(&db, 70_000).await;
    let mut text = String::from("email,first name,last name\n");
    for i in 0..60_000 {
        text.push_str(&format!("w{i}@acme.test,W{i},Walker\n"));
    }
    let parsed = parse(&db, &text);
    u.import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    let wal = db.dir.path().join("usher.db-wal");
    let size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    const LIMIT: u64 = 16 << 20;
    assert!(size() > LIMIT, "the import's WAL: {} bytes", size());
    u.invite(&crate::common::invite_req(
        "after@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    assert!(
        size() <= LIMIT,
        "the WAL after the next write: {} bytes",
        size()
    );
}

/// Applies with the professionals beyond the licences imported as guests.
async fn apply_overflowing_as_guests(u: &Usher, p: &Parsed) -> usher::service::ApplyOutcome {
    let opts = ApplyOptions {
        overflow_as_guests: true,
        ..Default::default()
    };
    u.import_apply(p, &opts).await.unwrap()
}

pub(crate) fn parse(db: &TestDb, text: &str) -> Parsed {
    let f = db.dir.path().join("import.csv");
    std::fs::write(&f, text).unwrap();
    usher::import::parse_file(&f, &Default::default(), &[]).unwrap()
}

/// Everything an import can touch, to compare before and after.
async fn snapshot(
    u: &Usher,
) -> (
    Vec<(String, String, String, String)>,
    Vec<(String, InvitationStatus)>,
) {
    let users = u
        .users("", "", 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.email, x.first_name, x.last_name, x.status.to_string()))
        .collect();
    let invs = u
        .invitations(&InvitationFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.status == InvitationStatus::Pending)
        .map(|i| (i.email, i.status))
        .collect();
    (users, invs)
}

async fn apply_then_undo_leaves_the_account_as_it_was(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(
        &u,
        &[
            ("lee@acme.test", "Ann", "Lee", Some("R1")),
            ("old@acme.test", "Bob", "Old", Some("R2")),
            ("gone@acme.test", "Di", "Gone", None),
        ],
    )
    .await;
    let before = snapshot(&u).await;
    let parsed = parse(
        db,
        "email,first_name,last_name,unique_ref\n\
         admin@acme.test,,,\n\
         lee@acme.test,Ann,Smith,R1\n\
         new@acme.test,Bob,Old,R2\n\
         n1@acme.test,N,One,\n\
         n2@acme.test,N,Two,\n\
         x@elsewhere.test,Out,Side,\n",
    );
    let opts = ApplyOptions {
        missing: Missing::Suspend,
        include_outside: true,
        file_name: "import.csv".into(),
        ..Default::default()
    };
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    assert_eq!(
        (
            out.invited,
            out.updated,
            out.suspended,
            out.invited_as_guests
        ),
        (3, 2, 1, 0)
    );
    let after = snapshot(&u).await;
    assert!(after.0.contains(&(
        "lee@acme.test".into(),
        "Ann".into(),
        "Smith".into(),
        "active".into()
    )));
    assert!(
        after.0.contains(&(
            "new@acme.test".into(),
            "Bob".into(),
            "Old".into(),
            "active".into()
        )),
        "address changed under R2"
    );
    assert!(after.0.contains(&(
        "gone@acme.test".into(),
        "Di".into(),
        "Gone".into(),
        "suspended".into()
    )));
    assert_eq!(
        after.1.len(),
        3,
        "n1, n2 and the outside address are invited"
    );
    let outside = u
        .invitations(&InvitationFilter {
            search: "elsewhere".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        outside[0].user_type,
        UserType::Guest,
        "outside the domains: a guest"
    );
    let history = u.import_history(10).await.unwrap();
    assert_eq!(
        (history.len(), history[0].id, history[0].undone_at),
        (1, out.batch_id, None)
    );

    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!((undo.revoked, undo.restored, undo.reactivated), (3, 2, 1));
    assert_eq!(
        snapshot(&u).await,
        before,
        "undo restores names, addresses and status, and revokes the invitations"
    );
    assert!(matches!(
        u.import_undo(out.batch_id).await,
        Err(Error::Conflict {
            with: Clash::State,
            ..
        })
    ));

    // A file that forgets the administrator does not lock the account out.
    let no_admin = parse(db, "email\nlee@acme.test\nold@acme.test\ngone@acme.test\n");
    let out = u
        .import_apply(
            &no_admin,
            &ApplyOptions {
                missing: Missing::Remove,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.removed, 0);
    assert!(
        snapshot(&u)
            .await
            .0
            .iter()
            .any(|x| x.0 == "admin@acme.test" && x.3 == "active")
    );
    // Removal, undone, brings the user back as it was.
    let parsed = parse(db, "email\nadmin@acme.test\nlee@acme.test\nold@acme.test\n");
    let out = u
        .import_apply(
            &parsed,
            &ApplyOptions {
                missing: Missing::Remove,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.removed, 1);
    assert_eq!(snapshot(&u).await.0.len(), 3);
    u.import_undo(out.batch_id).await.unwrap();
    assert_eq!(snapshot(&u).await, before);
}

async fn apply_refuses_errors_licences_and_a_changed_plan(db: &TestDb) {
    let (u, _clock) = account(db, 3).await; // the admin holds one; two free
    let before = snapshot(&u).await;
    let audit_before = u.audit(1000).await.unwrap().len();
    let with_error = parse(db, "email\nadmin@acme.test\na@acme.test\nbad@\n");
    assert!(matches!(
        u.import_apply(&with_error, &ApplyOptions::default()).await,
        Err(Error::Conflict {
            with: Clash::FaultyRows,
            ..
        })
    ));
    let three = std::sync::Arc::new(parse(
        db,
        "email\nadmin@acme.test\na@acme.test\nb@acme.test\nc@acme.test\n",
    ));
    let e = u
        .import_apply(&three, &ApplyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Seats(_)), "{e}");
    // A plan that changed since the preview is not applied.
    let preview = u.import_preview(three.clone()).await.unwrap();
    u.invite(&crate::common::invite_req("c@acme.test", UserType::Guest))
        .await
        .unwrap();
    let changed = ApplyOptions {
        expect_digest: Some(preview.digest.clone()),
        overflow_as_guests: true,
        ..Default::default()
    };
    let e = u.import_apply(&three, &changed).await.unwrap_err();
    assert!(e.to_string().contains("changed since the preview"), "{e}");
    u.revoke(&usher::service::Target::Email("c@acme.test".into()))
        .await
        .unwrap();
    let after_refusals = snapshot(&u).await;
    assert_eq!(after_refusals.0, before.0);
    assert_eq!(
        u.audit(1000).await.unwrap().len(),
        audit_before + 2,
        "only the invite and revoke of c@ were written"
    );
    // With the overflow as guests it goes through: two professionals, one guest.
    let out = apply_overflowing_as_guests(&u, &three).await;
    assert_eq!((out.invited, out.invited_as_guests), (3, 1));
    assert_eq!(u.status().await.unwrap().licences_used, 3);
}

async fn passwords_create_active_users_and_exclusions_leave_rows_out(db: &TestDb) {
    use usher::import::plan::Bucket;
    let (u, _clock) = account(db, 10).await;
    seed(
        &u,
        &[
            ("lee@acme.test", "Ann", "Lee", None),
            ("gone@acme.test", "Di", "Gone", None),
        ],
    )
    .await;
    let parsed = parse(
        db,
        "Email,Name,Password,Force Change Password\n\
         admin@acme.test,,,\n\
         pw@acme.test,Pat Word,Correct-horse-9,FALSE\n\
         skip.me@acme.test,Skip Me,,\n\
         inv@acme.test,In Vite,,\n\
         lee@acme.test,Ann Smith,,\n",
    );
    let opts = ApplyOptions {
        missing: Missing::Suspend,
        skip: vec![Bucket::Updated, Bucket::Missing],
        exclude_rows: vec![(4, 4)],
        ..Default::default()
    };
    let out = u.import_apply(&parsed, &opts).await.unwrap();
    assert_eq!(
        (out.created, out.invited, out.updated, out.suspended),
        (1, 1, 0, 0)
    );
    let users = u.users("", "", 100).await.unwrap();
    let pw = users.iter().find(|x| x.email == "pw@acme.test").unwrap();
    assert_eq!(
        (pw.status, pw.user_type),
        (UserStatus::Active, UserType::Professional)
    );
    let mut tx = u.store().read().await.unwrap();
    let (phc, must_change) = tx.password_hash(pw.id).await.unwrap().unwrap();
    drop(tx);
    let phc = phc.unwrap();
    assert!(phc.starts_with("$argon2id$") && !phc.contains("Correct-horse-9"));
    assert!(usher::domain::password::verify_password(
        "Correct-horse-9",
        &phc
    ));
    assert!(!must_change, "Force Change Password FALSE is kept");
    assert!(
        users
            .iter()
            .any(|x| x.email == "lee@acme.test" && x.last_name == "Lee"),
        "updates skipped"
    );
    assert!(
        users
            .iter()
            .any(|x| x.email == "gone@acme.test" && x.status == UserStatus::Active),
        "missing skipped"
    );
    assert!(
        u.invitations(&InvitationFilter {
            search: "skip.me".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty(),
        "row 4 excluded"
    );
    let audit = u.audit(100).await.unwrap();
    assert!(
        audit.iter().all(|a| !a.details.contains("Correct-horse-9")),
        "the password is never logged"
    );
    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!((undo.deleted, undo.revoked), (1, 1));
    assert!(
        !u.users("", "", 100)
            .await
            .unwrap()
            .iter()
            .any(|x| x.email == "pw@acme.test")
    );
}
