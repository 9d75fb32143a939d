//! An import's mail: the mailing the sender drafts into the outbox as it sends, and
//! what undo, resend and revoke do to mail not drafted yet.

use usher::Usher;
use usher::domain::{InvitationStatus, UserType};
use usher::service::ApplyOptions;
use usher::store::InvitationFilter;

use crate::common::{TestDb, account};
use crate::imports::parse;

crate::on_both_backends!(
    an_import_of_several_chunks_queues_every_invitation_once,
    undo_revokes_the_batch_and_cancels_its_mail_only,
    an_invitation_resent_or_revoked_before_its_mail_is_drafted_gets_no_import_mail,
    the_sender_steps_over_a_mailings_revoked_stretch,
);

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

/// A mail sender writing to a spool directory of the test's own.
pub(crate) fn spool_sender(
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
pub(crate) fn link_token(message: &str) -> String {
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
pub(crate) fn spooled(spool: &std::path::Path) -> Vec<String> {
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
