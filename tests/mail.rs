//! Mail delivered to a real SMTP server (aiosmtpd over TCP) and read back, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::smtp::SmtpSink;
use common::{TestDb, account, invite_req};
use usher::Usher;
use usher::domain::{DeliveryState, ManualClock, UserType};
use usher::mail::Sender;
use usher::store::InvitationFilter;

on_both_backends!(
    invitation_arrives_over_smtp,
    server_down_then_up_every_message_arrives_once,
    permanent_rejection_is_failed_with_the_reply,
    four_senders_drain_the_queue_exactly_once,
    imported_invitations_are_rendered_when_sent_and_retried_identically,
);

fn sender(u: &Usher, clock: &ManualClock, port: u16, concurrency: usize) -> Sender {
    let toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\nconcurrency = {concurrency}\nretry_base_seconds = 60\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_seconds = 5\n"
    );
    common::sender_from_toml(u, clock, &toml, Vec::new())
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

async fn invitation_arrives_over_smtp(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    let (u, clock) = account(db, 5).await;
    let mut req = invite_req("ann@acme.test", UserType::Professional);
    req.first_name = "Ann".into();
    u.invite(&req).await.unwrap();
    let r = sender(&u, &clock, sink.port, 2).flush().await.unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (1, 0, 0));
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let (to, raw) = &msgs[0];
    assert_eq!(to, &["ann@acme.test"]);
    assert_eq!(
        header(raw, "Subject"),
        Some("admin@acme.test invites you to Acme secure mail")
    );
    let body = raw.replace("=\r\n", "").replace("=\n", "");
    assert!(body.contains("https://usher.acme.test/enrol/"), "{body}");
    assert!(body.contains("2026-01-11 00:00 UTC"), "{body}");
    assert!(body.contains("Hello Ann"), "{body}");
    let inv = &u.invitations(&InvitationFilter::default()).await.unwrap()[0];
    assert_eq!(inv.delivery, Some(DeliveryState::Sent));
    assert_eq!(
        header(raw, "Message-ID").map(str::to_owned),
        Some(u.outbox(1).await.unwrap()[0].message_id.clone())
    );
}

async fn server_down_then_up_every_message_arrives_once(db: &TestDb) {
    let dir = db.dir.path().join("smtp");
    let mut sink = SmtpSink::start(&dir);
    let port = sink.port;
    sink.stop();
    let (u, clock) = account(db, 5).await;
    let addrs: Vec<String> = (0..10).map(|i| format!("user{i}@acme.test")).collect();
    u.invite(&invite_req(&addrs.join(","), UserType::Guest))
        .await
        .unwrap();
    let s = sender(&u, &clock, port, 4);
    let r = s.flush().await.unwrap();
    assert_eq!(
        (r.sent, r.retried),
        (0, 10),
        "server down: every message waits for a retry"
    );
    let listed = u.invitations(&InvitationFilter::default()).await.unwrap();
    assert!(
        listed
            .iter()
            .all(|i| i.delivery == Some(DeliveryState::Queued) && i.last_error.is_some())
    );
    let sink = SmtpSink::start_on(&dir, port);
    assert!(
        s.flush().await.unwrap().is_empty(),
        "nothing is due before the backoff"
    );
    clock.advance_ms(60_000);
    assert_eq!(s.flush().await.unwrap().sent, 10);
    clock.advance_ms(3_600_000);
    assert!(s.flush().await.unwrap().is_empty());
    let msgs = sink.messages();
    let got: Vec<String> = msgs.iter().map(|(to, _)| to.join(",")).collect();
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(
        (got.len(), unique.len()),
        (10, 10),
        "all ten arrive, none twice: {got:?}"
    );
}

async fn permanent_rejection_is_failed_with_the_reply(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    let (u, clock) = account(db, 5).await;
    u.invite(&invite_req(
        "reject-me@acme.test,ann@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    let r = sender(&u, &clock, sink.port, 2).flush().await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 1));
    let failed = u
        .invitations(&InvitationFilter {
            search: "reject".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed[0].delivery, Some(DeliveryState::Failed));
    let err = failed[0].last_error.clone().unwrap_or_default();
    assert!(
        err.contains("550") && err.contains("mailbox unavailable"),
        "{err}"
    );
    assert_eq!(u.status().await.unwrap().outbox_failed, 1);
    assert_eq!(sink.messages().len(), 1);
}

async fn four_senders_drain_the_queue_exactly_once(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    let (u, clock) = account(db, 5).await;
    for batch in 0..6 {
        let addrs: Vec<String> = (0..50).map(|i| format!("u{batch}-{i}@acme.test")).collect();
        u.invite(&invite_req(&addrs.join(","), UserType::Guest))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut s = sender(&u, &clock, sink.port, 4);
        // Small batches make the senders interleave.
        s = s.with_batch_size(7);
        tasks.push(tokio::spawn(async move { s.flush().await.unwrap().sent }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    assert_eq!(sent, 300);
    let ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|(_, raw)| header(raw, "Message-ID").unwrap().to_owned())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (300, 300),
        "each message delivered exactly once"
    );
}

#[tokio::test]
async fn the_rate_limit_holds_the_sender_back() {
    // Only a lower bound is asserted: a slow machine can make sending slower, never faster.
    let db = TestDb::sqlite();
    let sink = SmtpSink::start(&db.dir.path().join("smtp"));
    let (u, clock) = account(&db, 5).await;
    let addrs: Vec<String> = (0..60).map(|i| format!("r{i}@acme.test")).collect();
    u.invite(&invite_req(&addrs.join(","), UserType::Guest))
        .await
        .unwrap();
    let toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\nrate_per_second = 20\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        sink.port
    );
    let t = std::time::Instant::now();
    let r = common::sender_from_toml(&u, &clock, &toml, Vec::new())
        .flush()
        .await
        .unwrap();
    assert_eq!(r.sent, 60);
    // 20 may go at once, the other 40 at 20 a second.
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(1_500),
        "{:?}",
        t.elapsed()
    );
}

async fn imported_invitations_are_rendered_when_sent_and_retried_identically(db: &TestDb) {
    let dir = db.dir.path().join("smtp");
    let mut sink = SmtpSink::start(&dir);
    let port = sink.port;
    sink.stop();
    let (u, clock) = account(db, 5).await;
    let f = db.dir.path().join("people.csv");
    std::fs::write(
        &f,
        "email,first_name,last_name\nann@acme.test,Ann,Lee\nbob@acme.test,Bob,Smith\n",
    )
    .unwrap();
    let parsed = usher::import::parse_file(&f, &Default::default(), &[]).unwrap();
    let out = u
        .import_apply(&parsed, &usher::service::ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(out.invited, 2);
    // Queued as drafts, rendered at the first attempt (the relay is down)...
    let s = sender(&u, &clock, port, 2);
    assert_eq!(s.flush().await.unwrap().retried, 2);
    // ...and again, identically, a minute later.
    let sink = SmtpSink::start_on(&dir, port);
    clock.advance_ms(60_000);
    assert_eq!(s.flush().await.unwrap().sent, 2);
    let queued: HashSet<String> = u
        .outbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2);
    for (to, raw) in &msgs {
        let first = if to == &["ann@acme.test"] {
            "Ann"
        } else {
            "Bob"
        };
        assert_eq!(
            header(raw, "Subject"),
            Some("admin@acme.test invites you to Acme secure mail")
        );
        assert!(queued.contains(header(raw, "Message-ID").unwrap()), "{raw}");
        // The date it was queued, not the date it was sent.
        assert!(header(raw, "Date").unwrap().contains("00:00:00"), "{raw}");
        let body = raw.replace("=\r\n", "").replace("=\n", "");
        assert!(body.contains("https://usher.acme.test/enrol/"), "{body}");
        assert!(body.contains(&format!("Hello {first}")), "{body}");
    }
    let invs = u.invitations(&InvitationFilter::default()).await.unwrap();
    assert!(invs.iter().all(|i| i.delivery == Some(DeliveryState::Sent)));
}
