//! A relay that misbehaves (issue 8), on both backends: the first DATA commands are
//! answered 421 or 451, or the connection is dropped before any reply, or the relay
//! stalls past the timeout. Each message is retried, arrives exactly once in the end, with
//! the Message-ID it was queued with, and the outbox agrees. A 550 fails the message where
//! the operator sees it, and a retry delivers it once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::smtp::SmtpSink;
use common::{TestDb, account, invite_req};
use usher::domain::{DeliveryState, UserType};
use usher::store::InvitationFilter;

on_both_backends!(
    replies_421_are_retried_until_delivered,
    replies_451_are_retried_until_delivered,
    a_connection_dropped_in_data_is_retried,
    a_stalled_relay_times_out_and_is_retried,
    a_550_fails_the_message_visibly_and_a_retry_delivers_it_once,
);

/// A sender to `sink` over one connection, retrying a minute later, giving up on a
/// silent relay after two seconds.
fn one_at_a_time(
    u: &usher::Usher,
    clock: &usher::domain::ManualClock,
    sink: &SmtpSink,
) -> usher::mail::Sender {
    let toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\nconcurrency = 1\nretry_base_seconds = 60\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_seconds = 2\n",
        sink.port
    );
    common::sender_from_toml(u, clock, &toml, Vec::new())
}

async fn survives(db: &TestDb, mode: &str) {
    let dir = db.dir.path().join("smtp");
    let faults = format!("3:{mode}");
    let sink = SmtpSink::start_with(&dir, 0, &["--faults", &faults]);
    let (u, clock) = account(db, 10).await;
    u.invite(&invite_req(
        "a@acme.test,b@acme.test,c@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    let sender = one_at_a_time(&u, &clock, &sink);
    let mut rounds = 0;
    loop {
        let r = sender.flush().await.unwrap();
        assert_eq!(r.failed, 0, "a temporary fault never fails a message");
        let s = u.status().await.unwrap();
        if s.outbox_queued == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 10, "still queued after {rounds} rounds");
        // The retry delay passes.
        clock.advance_ms(61 * 60 * 1000);
    }
    assert!(rounds >= 1, "the faults forced at least one retry");
    let faults_seen = std::fs::read_to_string(dir.join("faults.log")).unwrap_or_default();
    assert_eq!(
        faults_seen.lines().count(),
        3,
        "the relay failed three DATA commands"
    );
    // Each message exactly once, with its queued Message-ID.
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (_, raw) in sink.messages() {
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap()
            .to_owned();
        *by_id.entry(id).or_default() += 1;
    }
    let queued: Vec<String> = u
        .outbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(by_id.len(), 3, "{by_id:?}");
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
    assert!(queued.iter().all(|id| by_id.contains_key(id)));
    let invs = u.invitations(&InvitationFilter::default()).await.unwrap();
    assert!(invs.iter().all(|i| i.delivery == Some(DeliveryState::Sent)));
}

async fn replies_421_are_retried_until_delivered(db: &TestDb) {
    survives(db, "421").await;
}

async fn replies_451_are_retried_until_delivered(db: &TestDb) {
    survives(db, "451").await;
}

async fn a_connection_dropped_in_data_is_retried(db: &TestDb) {
    survives(db, "drop").await;
}

async fn a_stalled_relay_times_out_and_is_retried(db: &TestDb) {
    survives(db, "stall").await;
}

/// A permanent refusal is not retried on its own, and not lost either: the message is
/// failed with the relay's words where the operator looks, and `outbox retry` (after the
/// relay's policy is fixed) sends it, once.
async fn a_550_fails_the_message_visibly_and_a_retry_delivers_it_once(db: &TestDb) {
    let dir = db.dir.path().join("smtp");
    let sink = SmtpSink::start_with(&dir, 0, &["--faults", "1:550"]);
    let (u, clock) = account(db, 10).await;
    u.invite(&invite_req("a@acme.test,b@acme.test", UserType::Guest))
        .await
        .unwrap();
    let sender = one_at_a_time(&u, &clock, &sink);
    let r = sender.flush().await.unwrap();
    assert_eq!((r.sent, r.failed, r.retried), (1, 1, 0));
    let invs = u.invitations(&InvitationFilter::default()).await.unwrap();
    let failed: Vec<_> = invs
        .iter()
        .filter(|i| i.delivery == Some(DeliveryState::Failed))
        .collect();
    assert_eq!(failed.len(), 1);
    let said = failed[0].last_error.clone().unwrap_or_default();
    assert!(
        said.contains("550") && said.contains("refused by policy"),
        "{said}"
    );
    // Nothing more goes by itself, however long one waits.
    clock.advance_ms(24 * 3_600_000);
    assert!(sender.flush().await.unwrap().is_empty());
    assert_eq!(sink.messages().len(), 1);

    assert_eq!(u.retry_failed_mail(None).await.unwrap(), 1);
    let r = sender.flush().await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0));
    let got: Vec<String> = sink.messages().into_iter().flat_map(|(to, _)| to).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, ["a@acme.test", "b@acme.test"], "each once");
    let invs = u.invitations(&InvitationFilter::default()).await.unwrap();
    assert!(invs.iter().all(|i| i.delivery == Some(DeliveryState::Sent)));
}
