//! Domains and corporate users (docs/rules.md#domains): verification by a real DNS query to
//! a stub server, by hand with a reason, activation and deactivation, and who may be
//! created.

use usher::Usher;
use usher::domain::UserType;
use usher::service::{NewCorporateUser, Target, Verify};
use usher::{Clash, Error};

use crate::common::smtp::DnsStub;
use crate::common::{TestDb, account, settings};

crate::on_both_backends!(
    a_domain_is_verified_by_its_txt_record_then_activated,
    a_domain_verified_by_hand_keeps_the_reason,
    corporate_users_only_on_verified_active_domains,
);

fn with_dns(u: &Usher, stub: &DnsStub) -> Usher {
    let mut s = settings();
    s.dns_servers = vec![stub.addr];
    Usher::new(u.store().clone(), u.clock().clone(), u.actor().clone(), s)
}

fn corporate(email: &str) -> NewCorporateUser {
    NewCorporateUser {
        email: email.into(),
        first_name: "Cora".into(),
        last_name: "Porate".into(),
        user_type: UserType::Professional,
        personal_mailbox: false,
        timezone: "Europe/Paris".into(),
        phone: "+33 1 23 45 67 89".into(),
    }
}

async fn a_domain_is_verified_by_its_txt_record_then_activated(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let added = u.add_domain("Sales.Acme.test").await.unwrap();
    assert_eq!(added.domain.name, "sales.acme.test");
    assert!(!added.domain.verified && !added.domain.active);
    let (txt_name, txt_value) = (added.txt_name.unwrap(), added.txt_value.unwrap());
    assert_eq!(txt_name, "_usher-verification.sales.acme.test");
    assert!(txt_value.starts_with("usher-verification="));
    assert!(matches!(
        u.add_domain("sales.acme.test").await,
        Err(Error::Conflict { with: Clash::Exists, detail: m }) if m.contains("already")
    ));
    // Not verified: it cannot be activated.
    assert!(matches!(
        u.set_domain_active("sales.acme.test", true).await,
        Err(Error::Conflict { with: Clash::State, detail: m }) if m.contains("not verified")
    ));

    // A record with the wrong value is reported, with what was found.
    let wrong = DnsStub::start(&[(&txt_name, "usher-verification=not-it")]);
    match with_dns(&u, &wrong)
        .verify_domain("sales.acme.test", &Verify::Dns)
        .await
    {
        Err(Error::Conflict {
            with: Clash::State,
            detail: m,
        }) => {
            assert!(m.contains(&txt_value) && m.contains("not-it"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // No record at all.
    let empty = DnsStub::start(&[]);
    assert!(matches!(
        with_dns(&u, &empty).verify_domain("sales.acme.test", &Verify::Dns).await,
        Err(Error::Conflict { with: Clash::State, detail: m }) if m.contains("found: none")
    ));

    let right = DnsStub::start(&[(&txt_name, "v=spf1 -all"), (&txt_name, &txt_value)]);
    let v = with_dns(&u, &right)
        .verify_domain("sales.acme.test", &Verify::Dns)
        .await
        .unwrap();
    assert!(v.domain.verified && v.txt_name.is_none());
    assert_eq!(v.domain.verified_how.as_deref(), Some("dns"));
    let v = u.set_domain_active("sales.acme.test", true).await.unwrap();
    assert!(v.domain.active);
    let audit: Vec<String> = u
        .audit(10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in ["domain.add", "domain.verify", "domain.activate"] {
        assert!(audit.iter().any(|x| x == a), "{a}: {audit:?}");
    }
}

async fn a_domain_verified_by_hand_keeps_the_reason(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.add_domain("intra.acme.test").await.unwrap();
    assert!(matches!(
        u.verify_domain("intra.acme.test", &Verify::Manual("  ".into()))
            .await,
        Err(Error::Invalid {
            field: "reason",
            ..
        })
    ));
    let v = u
        .verify_domain(
            "intra.acme.test",
            &Verify::Manual("internal zone, no public DNS; ticket IT-42".into()),
        )
        .await
        .unwrap();
    assert_eq!(v.domain.verified_how.as_deref(), Some("manual"));
    assert_eq!(
        v.domain.verified_reason.as_deref(),
        Some("internal zone, no public DNS; ticket IT-42")
    );
    assert_eq!(v.domain.verified_by.as_deref(), Some("admin@acme.test"));
    let listed = u.domains().await.unwrap();
    let init = listed
        .iter()
        .find(|d| d.domain.name == "acme.test")
        .unwrap();
    assert_eq!(init.domain.verified_how.as_deref(), Some("init"));
    assert_eq!(init.users, 1, "the administrator is on acme.test");
}

async fn corporate_users_only_on_verified_active_domains(db: &TestDb) {
    let (u, _clock) = account(db, 3).await;
    // The account's own, verified and active domain.
    let mut req = corporate("cora@acme.test");
    req.personal_mailbox = true;
    let cora = u.create_user(&req).await.unwrap();
    assert_eq!(cora.status.to_string(), "active");
    let mine = u.mailboxes().await.unwrap();
    assert_eq!(
        (mine[0].address.as_str(), mine[0].owner.as_deref()),
        ("cora@acme.test", Some("cora@acme.test"))
    );
    assert!(matches!(
        u.create_user(&req).await,
        Err(Error::Conflict {
            with: Clash::Exists,
            ..
        })
    ));

    // Unknown, unverified and inactive domains each say which.
    let refusal = |r: Result<usher::store::User, Error>| match r {
        Err(Error::Forbidden(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(
        refusal(u.create_user(&corporate("x@elsewhere.test")).await)
            .contains("not one of the account's domains")
    );
    u.add_domain("new.acme.test").await.unwrap();
    assert!(
        refusal(u.create_user(&corporate("x@new.acme.test")).await).contains("is not verified")
    );
    u.verify_domain("new.acme.test", &Verify::Manual("ours".into()))
        .await
        .unwrap();
    assert!(refusal(u.create_user(&corporate("x@new.acme.test")).await).contains("is not active"));
    u.set_domain_active("new.acme.test", true).await.unwrap();
    u.create_user(&corporate("x@new.acme.test")).await.unwrap();

    // Deactivating refuses new corporate users, and keeps everyone's grants.
    u.grant(
        &usher::service::Who::User(Target::Email("x@new.acme.test".into())),
        "User manager",
        None,
    )
    .await
    .unwrap();
    u.set_domain_active("new.acme.test", false).await.unwrap();
    assert!(refusal(u.create_user(&corporate("y@new.acme.test")).await).contains("is not active"));
    let (grants, _) = u
        .grants(&usher::service::Who::User(Target::Email(
            "x@new.acme.test".into(),
        )))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);

    // Licences: three seats, the admin, cora and x hold them; a guest is free.
    assert!(matches!(
        u.create_user(&corporate("z@acme.test")).await,
        Err(Error::Seats(_))
    ));
    let mut guest = corporate("z@acme.test");
    guest.user_type = UserType::Guest;
    u.create_user(&guest).await.unwrap();
    // Bad fields name the field.
    let mut bad = corporate("w@acme.test");
    bad.phone = "call me".into();
    assert!(matches!(
        u.create_user(&bad).await,
        Err(Error::Invalid { field: "phone", .. })
    ));
}
