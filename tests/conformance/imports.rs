//! Applying an import, whole or not at all, and undoing it.

use usher::Error;
use usher::Usher;
use usher::domain::{InvitationStatus, UserStatus, UserType};
use usher::import::Parsed;
use usher::service::{ApplyOptions, Missing};
use usher::store::InvitationFilter;

use crate::common::{TestDb, account};
use crate::seed;

crate::on_both_backends!(
    passwords_create_active_users_and_exclusions_leave_rows_out,
    apply_then_undo_leaves_the_account_as_it_was,
    apply_refuses_errors_licences_and_a_changed_plan,
    a_missing_user_left_out_by_address_is_not_suspended,
    an_import_of_several_chunks_queues_every_invitation_once,
    the_plan_reads_every_user_of_an_account_larger_than_a_chunk,
    undo_revokes_the_batch_and_cancels_its_mail_only,
    an_invitation_resent_or_revoked_before_its_mail_is_drafted_gets_no_import_mail,
    the_sender_steps_over_a_mailings_revoked_stretch,
    updates_and_suspensions_beyond_a_chunk_apply_and_undo_whole,
    removals_beyond_a_chunk_apply_and_undo_whole,
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

/// Undo finds an import's invitations by their batch: it revokes those still pending,
/// cancels the mail the sender has drafted for them, ends the mailing that would draft the
/// rest, keeps one revoked meanwhile, and touches nothing else.
async fn undo_revokes_the_batch_and_cancels_its_mail_only(db: &TestDb) {
    use usher::domain::{DeliveryState, Email};
    use usher::service::{InviteRequest, Target};
    let (u, clock) = account(db, 10).await;
    let by_hand = u
        .invite(&InviteRequest {
            addresses: vec![Email::parse("hand@acme.test").unwrap()],
            first_name: String::new(),
            last_name: String::new(),
            user_type: UserType::Professional,
            expires_in_days: None,
            subject: None,
            message: None,
            options: Default::default(),
        })
        .await
        .unwrap();
    let parsed = parse(db, "email\nb1@acme.test\nb2@acme.test\nb3@acme.test\n");
    let out = u
        .import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, 3);
    // One round of a sender taking one message at a time: it drafts b1's mail and sends
    // the older message by hand.
    let (sender, spool) = spool_sender(db, &u, &clock);
    let sender = sender.with_batch_size(1);
    assert_eq!(sender.run_once().await.unwrap().sent, 1);
    u.revoke(&Target::Email("b3@acme.test".into()))
        .await
        .unwrap();

    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!((undo.revoked, undo.kept), (2, 1));
    let pending: Vec<String> = u
        .invitations(&InvitationFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.status == InvitationStatus::Pending)
        .map(|i| i.email)
        .collect();
    assert_eq!(
        pending,
        ["hand@acme.test"],
        "only the invitation by hand is left"
    );
    let mail = u.outbox(100).await.unwrap();
    let states: Vec<(&str, DeliveryState)> =
        mail.iter().map(|m| (m.env_to.as_str(), m.state)).collect();
    assert_eq!(
        states,
        [
            ("b1@acme.test", DeliveryState::Cancelled),
            ("hand@acme.test", DeliveryState::Sent),
        ],
        "b2 and b3 were never drafted"
    );
    // Nothing of the import is left to send.
    assert_eq!(u.status().await.unwrap().outbox_queued, 0);
    assert!(sender.flush().await.unwrap().is_empty());
    assert_eq!(spooled(&spool).len(), 1);
    assert_eq!(by_hand.invited.len(), 1);
}

/// An import's invitation resent before the sender drafted its mail gets the resent
/// message only (the import's token is dead); one revoked gets none; the others get
/// theirs.
async fn an_invitation_resent_or_revoked_before_its_mail_is_drafted_gets_no_import_mail(
    db: &TestDb,
) {
    use usher::service::Target;
    let (u, clock) = account(db, 10).await;
    let parsed = parse(db, "email\nr1@acme.test\nr2@acme.test\nr3@acme.test\n");
    let out = u
        .import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, 3);
    u.resend(&Target::Email("r1@acme.test".into()))
        .await
        .unwrap();
    u.revoke(&Target::Email("r3@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(u.status().await.unwrap().outbox_queued, 2);
    let (sender, spool) = spool_sender(db, &u, &clock);
    assert_eq!(sender.flush().await.unwrap().sent, 2);
    let mail = spooled(&spool);
    let to = |addr: &str| {
        mail.iter()
            .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(addr)))
            .count()
    };
    assert_eq!(
        (to("r1@acme.test"), to("r2@acme.test"), to("r3@acme.test")),
        (1, 1, 0)
    );
    // Each link sent opens its invitation.
    for m in &mail {
        let token = link_token(m);
        assert!(u.open_invitation_for_token(&token).await.unwrap().is_some());
    }
    assert_eq!(u.status().await.unwrap().outbox_queued, 0);
}

/// A stretch of revoked invitations longer than the sender's windows of ids: a round
/// that finds it steps over it to the next invitations instead of coming back empty
/// (which would end a flush with mail still queued).
async fn the_sender_steps_over_a_mailings_revoked_stretch(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    let mut text = String::from("email,user type\n");
    for i in 0..3_000 {
        text.push_str(&format!("h{i:04}@acme.test,guest\n"));
    }
    let out = u
        .import_apply(&parse(db, &text), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, 3_000);
    // Written in address order, so these 2,300 are consecutive ids.
    let hole = crate::exec_raw(
        db,
        "UPDATE invitations SET status = 'revoked', draft_token = NULL
         WHERE email >= 'h0100@' AND email < 'h2400@'",
    )
    .await
    .unwrap();
    assert_eq!(hole, 2_300);
    let (sender, spool) = spool_sender(db, &u, &clock);
    let sender = sender.with_batch_size(50);
    assert_eq!(sender.run_once().await.unwrap().sent, 50);
    assert_eq!(sender.run_once().await.unwrap().sent, 50);
    assert_eq!(
        sender.run_once().await.unwrap().sent,
        50,
        "the third round reaches past the stretch"
    );
    let rest = sender.flush().await.unwrap();
    assert_eq!(rest.sent, 700 - 150);
    let mail = spooled(&spool);
    assert_eq!(mail.len(), 700);
    assert!(mail.iter().all(|m| {
        let to = m.lines().find(|l| l.starts_with("To:")).unwrap();
        let n: usize = to[to.find('h').unwrap() + 1..][..4].parse().unwrap();
        !(100..2_400).contains(&n)
    }));
    assert_eq!(u.status().await.unwrap().outbox_queued, 0);
}

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

/// A mail sender writing to a spool directory of the test's own.
fn spool_sender(
    db: &TestDb,
    u: &Usher,
    clock: &usher::domain::ManualClock,
) -> (usher::mail::Sender, std::path::PathBuf) {
    let spool = db.dir.path().join("spool");
    let toml = format!(
        "[mail]\ntransport = \"spool\"\nspool_dir = \"{}\"\n",
        spool.display()
    );
    (
        crate::common::sender_from_toml(u, clock, &toml, vec![]),
        spool,
    )
}

/// The token of a message's enrolment link.
fn link_token(message: &str) -> String {
    message
        .split("/enrol/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The messages in a spool directory, as text with quoted-printable's soft line breaks
/// joined.
fn spooled(spool: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(spool)
        .map(|d| {
            d.map(|e| {
                std::fs::read_to_string(e.unwrap().path())
                    .unwrap()
                    .replace("=\r\n", "")
                    .replace("=\n", "")
            })
            .collect()
        })
        .unwrap_or_default()
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

/// More rows than one chunk of the bulk writer (10,000), and not a multiple of it: the
/// chunk being written and the one being prepared overlap, and the last one is partial.
/// The import queues a mailing; the sender drafts it into the outbox batch by batch (the
/// batch size not a multiple of the chunk), one message per invitation, each carrying
/// its own invitation's link.
async fn an_import_of_several_chunks_queues_every_invitation_once(db: &TestDb) {
    use usher::domain::DeliveryState;
    let (u, clock) = account(db, 30_000).await;
    let n = 25_001;
    let mut text = String::from("email,first name,last name\n");
    for i in 0..n {
        text.push_str(&format!("p{i}@acme.test,P{i},Person\n"));
    }
    let parsed = parse(db, &text);
    let out = u
        .import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, n);
    let s = u.status().await.unwrap();
    assert_eq!(
        (s.pending_invitations, s.outbox_queued, s.outbox_undrafted),
        (n as i64, n as i64, n as i64),
        "queued, though not drafted yet"
    );
    let all = InvitationFilter {
        limit: 100_000,
        ..Default::default()
    };
    let invs = u.invitations(&all).await.unwrap();
    let emails: std::collections::HashSet<&str> = invs.iter().map(|i| i.email.as_str()).collect();
    assert_eq!(emails.len(), n);
    assert!(emails.contains("p0@acme.test") && emails.contains("p25000@acme.test"));
    assert!(
        invs.iter()
            .all(|i| i.delivery == Some(DeliveryState::Queued) && i.outbox_id.is_none())
    );
    assert!(u.outbox(10).await.unwrap().is_empty());

    let (sender, spool) = spool_sender(db, &u, &clock);
    let sender = sender.with_batch_size(7_000);
    let first = sender.run_once().await.unwrap();
    assert_eq!(first.sent, 7_000);
    let s = u.status().await.unwrap();
    assert_eq!(
        (s.outbox_queued, s.outbox_undrafted),
        ((n - 7_000) as i64, (n - 14_000) as i64),
        "the next batch was drafted while the first was sent; the rest wait"
    );
    assert_eq!(u.outbox(100_000).await.unwrap().len(), 14_000);
    let rest = sender.flush().await.unwrap();
    assert_eq!(first.sent + rest.sent, n as u64);
    assert_eq!(u.status().await.unwrap().outbox_queued, 0);

    // No foreign key holds these on PostgreSQL (its migration 0013): each invitation's
    // message exists, was sent to its address, once.
    let invs = u.invitations(&all).await.unwrap();
    let to: std::collections::HashMap<i64, String> = u
        .outbox(100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.env_to))
        .collect();
    assert_eq!(to.len(), n);
    for i in &invs {
        let id = i.outbox_id.unwrap();
        assert_eq!(
            to.get(&id),
            Some(&i.email_display),
            "message of {}",
            i.email
        );
        assert_eq!(i.delivery, Some(DeliveryState::Sent));
        assert!(i.sent_at.is_some());
    }
    // Each message's link opens its own invitation (a sample of them).
    let mail = spooled(&spool);
    assert_eq!(mail.len(), n);
    for m in mail.iter().step_by(997) {
        let token = link_token(m);
        let inv = u.open_invitation_for_token(&token).await.unwrap().unwrap();
        assert!(
            m.contains(&format!("To: {}", inv.email_display))
                || m.contains(&format!("<{}>", inv.email_display)),
            "{m}"
        );
    }
    let undo = u.import_undo(out.batch_id).await.unwrap();
    assert_eq!(undo.revoked, n);
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

fn parse(db: &TestDb, text: &str) -> Parsed {
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
        Err(Error::Conflict(_))
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
        Err(Error::Conflict(_))
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
