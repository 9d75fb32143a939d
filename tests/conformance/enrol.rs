//! Following an invitation's link (issue 6's core): the account is created active with
//! the invitation's grants, a link works once whatever the race, and every other link is
//! refused the same way.

use usher::Error;
use usher::config::Secret;
use usher::domain::{InvitationStatus, UserStatus, UserType};
use usher::service::{Enrolment, Target, Who};

use crate::common::{TestDb, account, invite_req};
use crate::{raw_messages, token_in};

crate::on_both_backends!(
    accepting_creates_the_account_with_its_grants_once,
    declined_expired_revoked_and_forged_links_are_refused_alike,
);

fn enrolment(password: &str) -> Enrolment {
    Enrolment {
        display_name: "Ann Lee".into(),
        password: Secret::new(password),
        personal_mailbox: true,
    }
}

async fn accepting_creates_the_account_with_its_grants_once(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.invite(&invite_req("ann@acme.test", UserType::Professional))
        .await
        .unwrap();
    let inv = Who::Invitation(Target::Email("ann@acme.test".into()));
    u.grant(&inv, "User manager", None).await.unwrap();
    let token = token_in(&raw_messages(u.store()).await[0].2);

    // Weak passwords are refused, with the organisation (Acme, acme.test) as context, and
    // the link still works.
    for weak in [
        "short",
        "Welcome2024!!",
        "Summer2025Summer",
        "correcthorsebatterystaple",
        "Acme2025!!",
        "acme.test-rocket",
        "tawny-quarry\u{200B}-lemon-88",
        "tawny-quarry\u{202E}-lemon-88",
    ] {
        match u.accept_invitation(&token, &enrolment(weak)).await {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "password", "{weak}"),
            other => panic!("{weak}: {other:?}"),
        }
    }
    // Twenty submissions of one link at once: one account.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (u, token) = (u.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            u.accept_invitation(&token, &enrolment("a long enough passphrase"))
                .await
        }));
    }
    let mut made = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(user) => {
                made += 1;
                assert_eq!(user.status, UserStatus::Active);
                assert_eq!(user.display_name, "Ann Lee");
            }
            Err(Error::LinkUnusable) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(made, 1);
    let (grants, _) = u
        .grants(&Who::User(Target::Email("ann@acme.test".into())))
        .await
        .unwrap();
    let labels: Vec<String> = grants.iter().map(|g| g.label()).collect();
    assert_eq!(labels, ["User manager", "Owner on ann@acme.test"]);
    let list = u.invitations(&crate::all(None)).await.unwrap();
    assert_eq!(list[0].status, InvitationStatus::Accepted);
    assert!(matches!(
        u.accept_invitation(&token, &enrolment("a long enough passphrase"))
            .await,
        Err(Error::LinkUnusable)
    ));
}

async fn declined_expired_revoked_and_forged_links_are_refused_alike(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    for a in ["dec@acme.test", "exp@acme.test", "rev@acme.test"] {
        u.invite(&invite_req(a, UserType::Guest)).await.unwrap();
    }
    let msgs = raw_messages(u.store()).await;
    let token = |who: &str| {
        msgs.iter()
            .find(|m| String::from_utf8_lossy(&m.2).contains(who))
            .map(|m| token_in(&m.2))
            .unwrap()
    };
    let declined = u.decline_invitation(&token("dec@acme.test")).await.unwrap();
    assert_eq!(declined.email, "dec@acme.test");
    u.revoke(&Target::Email("rev@acme.test".into()))
        .await
        .unwrap();
    clock.advance_days(11);
    let good = enrolment("a long enough passphrase");
    for t in [
        token("dec@acme.test"),
        token("exp@acme.test"),
        token("rev@acme.test"),
        "forged-token-that-was-never-issued".to_owned(),
    ] {
        let e = u.accept_invitation(&t, &good).await.unwrap_err();
        assert!(matches!(e, Error::LinkUnusable), "{e}");
        assert_eq!(
            e.to_string(),
            "this invitation link cannot be used; ask your administrator to send a new one"
        );
    }
    assert_eq!(u.status().await.unwrap().users, 1, "only the admin");
}
