//! Invitations: licences, duplicates, expiry, resend, revoke, races.

use crate::common::{self, TestDb, account, invite_req};
use crate::{all, raw_messages, token_in};
use usher::domain::{Actor, DeliveryState, InvitationStatus, UserType};
use usher::service::Target;
use usher::store::InvitationFilter;
use usher::{Clash, Error};

crate::on_both_backends!(
    init_creates_account_admin_and_audit,
    invite_writes_invitation_mail_and_audit_together,
    a_link_sent_before_token_stamps_still_opens,
    duplicates_are_refused_and_nothing_is_half_written,
    licences_limit_professionals_not_guests,
    invitations_expire_by_the_clock,
    resend_renews_link_and_window_and_withdraws_old_mail,
    resend_all_expired_renews_every_expired_one,
    revoke_kills_the_link,
    twenty_admins_race_for_the_last_seat,
    invitations_filter_and_search,
);

async fn init_creates_account_admin_and_audit(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    let s = u.status().await.unwrap();
    assert_eq!(
        (
            s.account.as_str(),
            s.users,
            s.licences_used,
            s.licences_total
        ),
        ("Acme", 1, 1, 5)
    );
    let again = u
        .init(&usher::service::InitRequest {
            org: "Other".into(),
            domain: "other.test".into(),
            licences: 1,
            admin: "a@other.test".into(),
            validity_days: 10,
        })
        .await;
    assert!(matches!(again, Err(Error::AlreadyInitialised(name)) if name == "Acme"));
    let actions: Vec<String> = u
        .audit(10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["user.create", "domain.add", "account.init"]);
}

async fn invite_writes_invitation_mail_and_audit_together(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    let out = u
        .invite(&invite_req(
            "ann@acme.test,bob@acme.test",
            UserType::Professional,
        ))
        .await
        .unwrap();
    assert_eq!(out.invited.len(), 2);
    let list = u.invitations(&all(None)).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(
        |i| i.status == InvitationStatus::Pending && i.delivery == Some(DeliveryState::Queued)
    ));
    assert!(
        list.iter()
            .all(|i| i.expires_at == common::T0.plus_days(10).0 && i.inviter == "admin@acme.test")
    );
    let msgs = raw_messages(u.store()).await;
    assert_eq!(msgs.len(), 2);
    for (_, _, raw) in &msgs {
        let token = token_in(raw);
        assert_eq!(token.len(), 55, "a stamp, then 256 bits: {token}");
        let found = u.open_invitation_for_token(&token).await.unwrap();
        assert!(found.is_some(), "the mailed link opens its invitation");
        let text = String::from_utf8_lossy(raw);
        assert!(
            text.contains("2026-01-11 00:00 UTC"),
            "expiry date stated: {text}"
        );
        assert!(text.contains("Acme") && text.contains("admin@acme.test"));
    }
    let audit = u.audit(10).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "invitation.create")
            .count(),
        2
    );
    assert!(audit.iter().all(|a| a.actor == "admin@acme.test"));
}

/// Links drawn before tokens carried a stamp are stored under their hash alone: after
/// the upgrade they open their invitation still, and a stamped look-alike does not.
async fn a_link_sent_before_token_stamps_still_opens(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap();
    let old = "q3ZbV1n0c9k2fWmXo8RrT6uYp4HsJd7LgAeB5iKzC1w";
    let key = usher::domain::token::hash_token(old);
    assert_eq!(key.len(), 64, "an old token's key is its hash alone");
    let sql = format!("UPDATE invitations SET token_hash = '{key}'");
    assert_eq!(crate::exec_raw(db, sql.leak()).await, Ok(1));
    let found = u.open_invitation_for_token(old).await.unwrap();
    assert_eq!(found.map(|i| i.email), Some("ann@acme.test".to_owned()));
    let stamped = format!("0123456789ab{old}");
    assert!(
        u.open_invitation_for_token(&stamped)
            .await
            .unwrap()
            .is_none(),
        "a stamp in front makes another key"
    );
}

async fn duplicates_are_refused_and_nothing_is_half_written(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.invite(&invite_req("Ann@ACME.test", UserType::Guest))
        .await
        .unwrap();
    let before = (
        u.invitations(&all(None)).await.unwrap().len(),
        u.audit(100).await.unwrap().len(),
        u.outbox(100).await.unwrap().len(),
    );
    // Same address in another case: one person, one row.
    let e = u
        .invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("already has a pending invitation"),
        "{e}"
    );
    // An existing user, inside a batch with a good address: the whole batch is refused.
    let e = u
        .invite(&invite_req(
            "new@acme.test,admin@acme.test",
            UserType::Guest,
        ))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("admin@acme.test is already a user"),
        "{e}"
    );
    // A bad name refuses the invite before anything is written.
    let mut bad = invite_req("other@acme.test", UserType::Guest);
    bad.first_name = "Eve\r\nBcc: x@y.z".into();
    assert!(matches!(
        u.invite(&bad).await,
        Err(Error::Invalid {
            field: "first name",
            ..
        })
    ));
    let after = (
        u.invitations(&all(None)).await.unwrap().len(),
        u.audit(100).await.unwrap().len(),
        u.outbox(100).await.unwrap().len(),
    );
    assert_eq!(
        before, after,
        "refused invites leave the database as it was"
    );
    assert!(
        u.invitations(&InvitationFilter {
            search: "new@".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );
}

async fn licences_limit_professionals_not_guests(db: &TestDb) {
    let (u, clock) = account(db, 3).await; // the admin holds one seat
    u.invite(&invite_req(
        "a@acme.test,b@acme.test",
        UserType::Professional,
    ))
    .await
    .unwrap();
    let e = u
        .invite(&invite_req("c@acme.test", UserType::Professional))
        .await
        .unwrap_err();
    let Error::Seats(s) = &e else {
        panic!("expected a licence refusal, got {e}")
    };
    assert_eq!((s.seats.used, s.seats.total, s.wanted), (3, 3, 1));
    assert!(e.to_string().contains("has 3 licence(s)"), "{e}");
    // Guests are free and unlimited.
    u.invite(&invite_req(
        "g1@acme.test,g2@acme.test,g3@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    // An expired professional invitation frees its seat; renewing it takes one again.
    clock.advance_days(11);
    assert_eq!(u.status().await.unwrap().licences_used, 1);
    u.invite(&invite_req("c@acme.test", UserType::Professional))
        .await
        .unwrap();
    assert_eq!(u.status().await.unwrap().licences_used, 2);
}

async fn invitations_expire_by_the_clock(db: &TestDb) {
    let (u, clock) = account(db, 5).await;
    let mut req = invite_req("ann@acme.test", UserType::Guest);
    req.expires_in_days = Some(2);
    u.invite(&req).await.unwrap();
    clock.advance_days(2);
    clock.advance_ms(-1);
    assert_eq!(
        u.invitations(&all(None)).await.unwrap()[0].status,
        InvitationStatus::Pending
    );
    clock.advance_ms(1);
    assert_eq!(
        u.invitations(&all(None)).await.unwrap()[0].status,
        InvitationStatus::Expired
    );
    assert_eq!(
        u.invitations(&all(Some(InvitationStatus::Expired)))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        u.invitations(&all(Some(InvitationStatus::Pending)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(u.status().await.unwrap().pending_invitations, 0);
}

async fn resend_renews_link_and_window_and_withdraws_old_mail(db: &TestDb) {
    let (u, clock) = account(db, 5).await;
    u.invite(&invite_req("ann@acme.test", UserType::Professional))
        .await
        .unwrap();
    let old_token = token_in(&raw_messages(u.store()).await[0].2);
    clock.advance_days(3);
    let r = u
        .resend(&Target::Email("ANN@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(r.expires_at, common::T0.plus_days(13).rfc3339());
    let inv = &u.invitations(&all(None)).await.unwrap()[0];
    assert_eq!(
        (inv.resend_count, inv.status),
        (1, InvitationStatus::Pending)
    );
    let msgs = raw_messages(u.store()).await;
    assert_eq!(msgs.len(), 2);
    let old = msgs.iter().find(|m| token_in(&m.2) == old_token).unwrap();
    assert_eq!(
        old.1,
        DeliveryState::Cancelled,
        "the superseded message never leaves"
    );
    assert!(
        u.open_invitation_for_token(&old_token)
            .await
            .unwrap()
            .is_none(),
        "the old link stops working"
    );
    let new_token = msgs
        .iter()
        .map(|m| token_in(&m.2))
        .find(|t| *t != old_token)
        .unwrap();
    assert!(
        u.open_invitation_for_token(&new_token)
            .await
            .unwrap()
            .is_some()
    );
    // Expired invitations can be resent too, with a fresh window from now.
    clock.advance_days(20);
    assert_eq!(
        u.invitations(&all(None)).await.unwrap()[0].status,
        InvitationStatus::Expired
    );
    u.resend(&Target::Id(inv.id)).await.unwrap();
    let inv = &u.invitations(&all(None)).await.unwrap()[0];
    assert_eq!(
        (inv.status, inv.resend_count),
        (InvitationStatus::Pending, 2)
    );
    assert_eq!(inv.expires_at, common::T0.plus_days(33).0);
}

async fn resend_all_expired_renews_every_expired_one(db: &TestDb) {
    let (u, clock) = account(db, 2).await; // one seat free
    u.invite(&invite_req("g1@acme.test,g2@acme.test", UserType::Guest))
        .await
        .unwrap();
    u.invite(&invite_req("p1@acme.test", UserType::Professional))
        .await
        .unwrap();
    clock.advance_days(11);
    let done = u.resend_all_expired().await.unwrap();
    assert_eq!(done.len(), 3);
    assert!(
        u.invitations(&all(Some(InvitationStatus::Expired)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        u.invitations(&all(Some(InvitationStatus::Pending)))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(u.resend_all_expired().await.unwrap().is_empty());
    // Too few seats for the expired professionals: nothing is resent.
    clock.advance_days(11);
    u.invite(&invite_req("p2@acme.test", UserType::Professional))
        .await
        .unwrap();
    let e = u.resend_all_expired().await.unwrap_err();
    assert!(matches!(e, Error::Seats(_)), "{e}");
    assert_eq!(
        u.invitations(&all(Some(InvitationStatus::Expired)))
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn revoke_kills_the_link(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    u.invite(&invite_req("ann@acme.test", UserType::Professional))
        .await
        .unwrap();
    let token = token_in(&raw_messages(u.store()).await[0].2);
    let inv = u
        .revoke(&Target::Email("ann@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(inv.status, InvitationStatus::Revoked);
    assert!(inv.revoked_at.is_some());
    assert_eq!(inv.delivery, Some(DeliveryState::Cancelled));
    assert!(u.open_invitation_for_token(&token).await.unwrap().is_none());
    assert!(matches!(
        u.revoke(&Target::Id(inv.id)).await,
        Err(Error::Conflict {
            with: Clash::State,
            ..
        })
    ));
    assert!(matches!(
        u.resend(&Target::Id(inv.id)).await,
        Err(Error::Conflict {
            with: Clash::State,
            ..
        })
    ));
    assert!(matches!(
        u.revoke(&Target::Id(999)).await,
        Err(Error::NotFound(_))
    ));
    // A revoked invitation holds no seat and does not block a new one.
    assert_eq!(u.status().await.unwrap().licences_used, 1);
    u.invite(&invite_req("ann@acme.test", UserType::Professional))
        .await
        .unwrap();
}

async fn twenty_admins_race_for_the_last_seat(db: &TestDb) {
    let (u, clock) = account(db, 2).await; // the admin holds one, one is free
    let mut tasks = Vec::new();
    for i in 0..20 {
        // Each admin has its own connection pool, as separate consoles would.
        let store = db.store().await;
        let admin = common::core(store, &clock).with_actor(Actor::new(format!("os:admin{i}")));
        tasks.push(tokio::spawn(async move {
            admin
                .invite(&invite_req(
                    &format!("user{i}@acme.test"),
                    UserType::Professional,
                ))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Seats(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one admin gets the last seat");
    assert_eq!(
        u.invitations(&all(Some(InvitationStatus::Pending)))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(u.status().await.unwrap().licences_used, 2);
}

async fn invitations_filter_and_search(db: &TestDb) {
    let (u, _clock) = account(db, 5).await;
    u.invite(&invite_req(
        "ann@acme.test,bob@acme.test,cat@acme.test",
        UserType::Guest,
    ))
    .await
    .unwrap();
    u.revoke(&Target::Email("bob@acme.test".into()))
        .await
        .unwrap();
    let emails =
        |v: Vec<usher::store::Invitation>| v.into_iter().map(|i| i.email).collect::<Vec<_>>();
    assert_eq!(
        emails(
            u.invitations(&all(Some(InvitationStatus::Revoked)))
                .await
                .unwrap()
        ),
        ["bob@acme.test"]
    );
    assert_eq!(
        emails(
            u.invitations(&all(Some(InvitationStatus::Pending)))
                .await
                .unwrap()
        ),
        ["cat@acme.test", "ann@acme.test"]
    );
    let f = InvitationFilter {
        search: "CAT".into(),
        ..Default::default()
    };
    assert_eq!(emails(u.invitations(&f).await.unwrap()), ["cat@acme.test"]);
    let page = InvitationFilter {
        limit: 2,
        ..Default::default()
    };
    let first = u.invitations(&page).await.unwrap();
    let rest = u
        .invitations(&InvitationFilter {
            before_id: first[1].id,
            ..page
        })
        .await
        .unwrap();
    assert_eq!(emails(rest), ["ann@acme.test"]);
}
