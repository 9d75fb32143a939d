//! What follows an answer (issue 6): the inviter is told by mail, someone already
//! registered signs in to accept, and a reminder goes once, before expiry, with a fresh link.

use usher::Error;
use usher::config::Secret;
use usher::domain::password::{hash_password, verify_password};
use usher::domain::{Timestamp, UserStatus, UserType};
use usher::service::{Enrolment, Target};
use usher::store::{NewAccount, NewUser};

use crate::common::{TestDb, account, invite_req};
use crate::{exec_raw, raw_messages, token_in};

crate::on_both_backends!(
    the_inviter_is_told_of_each_answer,
    a_registered_person_signs_in_to_accept,
    a_reminder_goes_once_before_expiry_with_a_fresh_link,
);

fn enrolment(password: &str) -> Enrolment {
    Enrolment {
        display_name: "Ann Lee".into(),
        password: Secret::new(password),
        personal_mailbox: false,
    }
}

fn token_for(msgs: &[(i64, usher::domain::DeliveryState, Vec<u8>)], who: &str) -> String {
    msgs.iter()
        .filter(|m| String::from_utf8_lossy(&m.2).contains(who))
        .max_by_key(|m| m.0)
        .map(|m| token_in(&m.2))
        .unwrap()
}

async fn the_inviter_is_told_of_each_answer(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.invite(&invite_req(
        "ann@acme.test,bob@acme.test",
        UserType::Professional,
    ))
    .await
    .unwrap();
    let msgs = raw_messages(u.store()).await;
    u.accept_invitation(
        &token_for(&msgs, "ann@acme.test"),
        &enrolment("tawny-quarry-lemon-88"),
    )
    .await
    .unwrap();
    u.decline_invitation(&token_for(&msgs, "bob@acme.test"))
        .await
        .unwrap();
    let notes: Vec<_> = u
        .outbox(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "notification")
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().all(|m| m.env_to == "admin@acme.test"));
    let subjects: Vec<&str> = notes.iter().map(|m| m.subject.as_str()).collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("ann@acme.test") && s.contains("accepted"))
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("bob@acme.test") && s.contains("declined"))
    );
    // The invitee, not an admin, is named in the audit log.
    let audit = u.audit(20).await.unwrap();
    let accept = audit
        .iter()
        .find(|a| a.action == "invitation.accept")
        .unwrap();
    assert_eq!(accept.actor, "ann@acme.test");
    assert!(
        accept.details.contains("admin@acme.test"),
        "{}",
        accept.details
    );
}

async fn a_registered_person_signs_in_to_accept(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    // Carl has an account in another organisation on this platform.
    let phc = hash_password(&Secret::new("carls-own-strong-pass")).unwrap();
    {
        let mut tx = u.store().write().await.unwrap();
        let other = tx
            .insert_account(&NewAccount {
                name: "Other Org",
                licences: 5,
                invite_validity_days: 10,
                now: clock.now_ts(),
            })
            .await
            .unwrap();
        let id = tx
            .insert_user(&NewUser {
                account_id: other.id,
                email: "carl@partner.test",
                email_display: "carl@partner.test",
                first_name: "Carl",
                last_name: "Berg",
                unique_ref: None,
                user_type: UserType::Professional,
                status: UserStatus::Active,
                now: clock.now_ts(),
            })
            .await
            .unwrap();
        tx.set_password_hash(id, &phc, false).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Two accounts now: this core works on Acme's.
    let mut settings = crate::common::settings();
    settings.account = Some("Acme".into());
    let u = usher::Usher::new(
        u.store().clone(),
        std::sync::Arc::new(clock.clone()),
        usher::domain::Actor::new("admin@acme.test"),
        settings,
    );
    u.invite(&invite_req("carl@partner.test", UserType::Guest))
        .await
        .unwrap();
    let token = token_for(&raw_messages(u.store()).await, "carl@partner.test");
    let page = u.enrol_page(&token).await.unwrap().unwrap();
    assert!(page.registered, "the page asks for the existing password");
    match u
        .accept_invitation(&token, &enrolment("not-carls-password-9"))
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "password"),
        other => panic!("{other:?}"),
    }
    let user = u
        .accept_invitation(&token, &enrolment("carls-own-strong-pass"))
        .await
        .unwrap();
    assert_eq!(user.display_name, "Carl Berg", "their name, not the form's");
    assert_eq!(user.user_type, UserType::Guest);
    let mut tx = u.store().read().await.unwrap();
    let (stored, _) = tx.password_hash(user.id).await.unwrap().unwrap();
    assert!(verify_password("carls-own-strong-pass", &stored.unwrap()));
}

async fn a_reminder_goes_once_before_expiry_with_a_fresh_link(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    u.invite(&invite_req("ann@acme.test", UserType::Professional))
        .await
        .unwrap();
    let first = token_for(&raw_messages(u.store()).await, "ann@acme.test");
    // Not yet mailed: no reminder for a message that never left.
    clock.advance_days(9);
    assert_eq!(u.send_reminders().await.unwrap(), 0);
    exec_raw(db, "UPDATE invitations SET sent_at = 1")
        .await
        .unwrap();
    assert_eq!(u.send_reminders().await.unwrap(), 1);
    assert_eq!(u.send_reminders().await.unwrap(), 0, "once only");
    let msgs = raw_messages(u.store()).await;
    let newest = msgs.iter().max_by_key(|m| m.0).unwrap();
    let reminder = String::from_utf8_lossy(&newest.2)
        .replace("=\r\n", "")
        .replace("=\n", "");
    assert!(reminder.contains("Reminder"), "{reminder}");
    let inv = &u.invitations(&crate::all(None)).await.unwrap()[0];
    assert!(
        reminder.contains(&Timestamp(inv.expires_at).human()),
        "the reminder states the expiry"
    );
    let fresh = token_in(&newest.2);
    assert_ne!(fresh, first);
    assert!(
        u.enrol_page(&first).await.unwrap().is_none(),
        "the old link is replaced"
    );
    assert!(u.enrol_page(&fresh).await.unwrap().is_some());
    // A resend opens a new window, and with it a new reminder.
    u.resend(&Target::Email("ann@acme.test".into()))
        .await
        .unwrap();
    exec_raw(db, "UPDATE invitations SET sent_at = 1")
        .await
        .unwrap();
    assert_eq!(u.send_reminders().await.unwrap(), 0, "not due yet");
    clock.advance_days(9);
    assert_eq!(u.send_reminders().await.unwrap(), 1);
}
