//! SMTP over STARTTLS and implicit TLS, with authentication, to a relay whose certificate
//! is signed by an internal CA (`ca_file`), as on-prem sites have. The transport does not
//! depend on the backend, so these run on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::ca::internal_ca;
use common::smtp::SmtpSink;
use common::{TestDb, account, invite_req};
use usher::Usher;
use usher::domain::{DeliveryState, ManualClock, UserType};
use usher::mail::FlushReport;
use usher::store::InvitationFilter;

fn sink(db: &TestDb, tls: &str, auth: &str) -> SmtpSink {
    let (_, cert, key) = internal_ca(db.dir.path());
    let mut args = vec![
        "--tls",
        tls,
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    if !auth.is_empty() {
        args.extend(["--auth", auth]);
    }
    SmtpSink::start_with(&db.dir.path().join("smtp"), 0, &args)
}

async fn send(
    u: &Usher,
    clock: &ManualClock,
    db: &TestDb,
    port: u16,
    tls: &str,
    password: Option<&str>,
    ca: bool,
) -> FlushReport {
    let mut toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\n[mail.smtp]\nhost = \"localhost\"\nport = {port}\ntls = \"{tls}\"\ntimeout_seconds = 5\n"
    );
    if ca {
        toml += &format!("ca_file = \"{}\"\n", db.dir.path().join("ca.pem").display());
    }
    let mut env = Vec::new();
    if let Some(pw) = password {
        toml += "username = \"usher\"\n";
        env.push(("USHER_SMTP_PASSWORD", pw));
    }
    common::sender_from_toml(u, clock, &toml, env)
        .flush()
        .await
        .unwrap()
}

/// A relay speaking `tls` (with `auth` if not empty) and an account with one invitation
/// queued for it.
async fn setup(tls: &str, auth: &str) -> (TestDb, SmtpSink, Usher, ManualClock) {
    let db = TestDb::sqlite();
    let sink = sink(&db, tls, auth);
    let (u, clock) = account(&db, 5).await;
    u.invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap();
    (db, sink, u, clock)
}

#[tokio::test]
async fn starttls_with_login_to_a_relay_signed_by_an_internal_ca() {
    let (db, sink, u, clock) = setup("starttls", "usher:s3cret").await;
    let r = send(&u, &clock, &db, sink.port, "starttls", Some("s3cret"), true).await;
    assert_eq!(r.sent, 1, "{r:?}");
    let env = &sink.envelopes()[0];
    assert_eq!(
        (env["auth"].as_str(), env["tls"].as_bool()),
        (Some("usher"), Some(true))
    );
}

#[tokio::test]
async fn implicit_tls_with_login_to_a_relay_signed_by_an_internal_ca() {
    // usher's own TLS over its own socket (mail/smtp.rs), lettre's session over it.
    let (db, sink, u, clock) = setup("implicit", "usher:s3cret").await;
    let r = send(&u, &clock, &db, sink.port, "tls", Some("s3cret"), true).await;
    let inv = &u.invitations(&InvitationFilter::default()).await.unwrap()[0];
    assert_eq!(r.sent, 1, "{r:?}: {:?}", inv.last_error);
    let env = &sink.envelopes()[0];
    assert_eq!(
        (env["auth"].as_str(), env["tls"].as_bool()),
        (Some("usher"), Some(true))
    );
}

#[tokio::test]
async fn an_untrusted_certificate_over_implicit_tls_is_refused() {
    let (db, sink, u, clock) = setup("implicit", "").await;
    let r = send(&u, &clock, &db, sink.port, "tls", None, false).await;
    assert_eq!((r.sent, r.retried), (0, 1), "{r:?}");
    let inv = &u.invitations(&InvitationFilter::default()).await.unwrap()[0];
    let err = inv.last_error.clone().unwrap_or_default().to_lowercase();
    assert!(err.contains("certificate") || err.contains("tls"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_retried_later() {
    let (db, sink, u, clock) = setup("starttls", "").await;
    let r = send(&u, &clock, &db, sink.port, "starttls", None, false).await;
    assert_eq!((r.sent, r.retried), (0, 1), "{r:?}");
    let inv = &u.invitations(&InvitationFilter::default()).await.unwrap()[0];
    assert_eq!(inv.delivery, Some(DeliveryState::Queued));
    let err = inv.last_error.clone().unwrap_or_default().to_lowercase();
    assert!(err.contains("certificate") || err.contains("tls"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_wrong_password_fails_with_the_relays_reply() {
    let (db, sink, u, clock) = setup("starttls", "usher:s3cret").await;
    let r = send(&u, &clock, &db, sink.port, "starttls", Some("wrong"), true).await;
    assert_eq!((r.sent, r.failed), (0, 1), "{r:?}");
    let inv = &u.invitations(&InvitationFilter::default()).await.unwrap()[0];
    let err = inv.last_error.clone().unwrap_or_default();
    assert!(err.contains("535"), "{err}");
    assert!(sink.messages().is_empty());
}
