//! Self-registration (docs/rules.md#domains): only when switched on, only on a verified,
//! active domain, proven by a link that works once, within the licences.

use usher::Error;
use usher::config::Secret;
use usher::domain::{UserStatus, UserType};
use usher::service::Enrolment;

use crate::common::{TestDb, account};
use crate::raw_messages;

crate::on_both_backends!(self_registration_is_proven_by_mail_and_bounded,);

fn enrolment(name: &str, password: &str) -> Enrolment {
    Enrolment {
        display_name: name.into(),
        password: Secret::new(password),
        personal_mailbox: true,
    }
}

/// The token in the last message's registration link.
async fn last_register_token(u: &usher::Usher) -> Option<String> {
    let msgs = raw_messages(u.store()).await;
    let text = String::from_utf8_lossy(&msgs.iter().max_by_key(|m| m.0)?.2)
        .replace("=\n", "")
        .replace("=\r\n", "");
    let at = text.find("/register/")? + "/register/".len();
    Some(
        text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

async fn self_registration_is_proven_by_mail_and_bounded(db: &TestDb) {
    let (u, clock) = account(db, 2).await;
    // Off by default: a request sends nothing, and says nothing different.
    u.request_registration("dan@acme.test").await.unwrap();
    assert!(raw_messages(u.store()).await.is_empty());
    u.set_self_registration(true).await.unwrap();
    // Not one of the account's domains: silence too. A malformed address is an error.
    u.request_registration("eve@elsewhere.test").await.unwrap();
    assert!(raw_messages(u.store()).await.is_empty());
    assert!(u.request_registration("not an address").await.is_err());

    u.request_registration("Dan@acme.test").await.unwrap();
    let token = last_register_token(&u).await.unwrap();
    let page = u.registration_page(&token).await.unwrap().unwrap();
    assert_eq!(page.org, "Acme");
    match u
        .complete_registration(&token, &enrolment("Dan Ek", "password1234"))
        .await
    {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!(field, "password");
            assert!(reason.contains("common"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let user = u
        .complete_registration(&token, &enrolment("Dan Ek", "tawny-quarry-lemon-88"))
        .await
        .unwrap();
    assert_eq!(
        (user.status, user.user_type),
        (UserStatus::Active, UserType::Professional)
    );
    assert!(matches!(
        u.complete_registration(&token, &enrolment("Dan Ek", "tawny-quarry-lemon-88"))
            .await,
        Err(Error::LinkUnusable)
    ));
    // A registered address gets no second link.
    u.request_registration("dan@acme.test").await.unwrap();
    assert_eq!(raw_messages(u.store()).await.len(), 1);

    // At most three links an hour for one address.
    for _ in 0..5 {
        u.request_registration("fay@acme.test").await.unwrap();
    }
    assert_eq!(raw_messages(u.store()).await.len(), 4);
    // Two licences: the admin and Dan hold them, so Fay cannot complete.
    let t = last_register_token(&u).await.unwrap();
    match u
        .complete_registration(&t, &enrolment("Fay Ng", "tawny-quarry-lemon-88"))
        .await
    {
        Err(Error::Seats(_)) => {}
        other => panic!("{other:?}"),
    }
    // The link outlives nothing: after a day it is refused, like a forged one.
    clock.advance_days(2);
    assert!(u.registration_page(&t).await.unwrap().is_none());
    // Switched off: open links stop working.
    u.set_self_registration(false).await.unwrap();
    u.request_registration("gus@acme.test").await.unwrap();
    assert_eq!(raw_messages(u.store()).await.len(), 4);
}
