//! AD-like entries: objectGUID as the reference, userAccountControl's bit 2 as disabled,
//! the UPN standing in for a missing mail, and AD's bit filter evaluated by the server.

use usher::domain::UserStatus;
use usher::service::Target;

use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, ad_person};
use crate::{NO_LIMITS, apply, changes_of, corporate, count, preview, source, user};

crate::on_both_backends!(disabled_accounts_are_suspended_and_come_back);

async fn disabled_accounts_are_suspended_and_come_back(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Ad,
        &[
            ad_person(1, "Ann", "Lee", "ann@acme.test", 512),
            ad_person(2, "Bob", "Ng", "bob@acme.test", 514),
            ad_person(3, "Eve", "Ito", "eve@acme.test", 512),
        ],
    ) else {
        return;
    };
    let (u, clock) = account(db, 20).await;
    corporate(&u, "bob@acme.test", "Bob", "Ng").await;
    corporate(&u, "eve@acme.test", "Eve", "Ito").await;
    let s = source(&ldap.source_toml("ad", NO_LIMITS));

    let p = preview(&u, &s).await;
    assert_eq!(
        (count(&p, "new"), count(&p, "disabled")),
        (1, 1),
        "{:?} {:?}",
        p.faults,
        p.plan.as_ref().unwrap().counts
    );
    assert_eq!(
        changes_of(&p, "bob@acme.test"),
        ["status: active → suspended (disabled at the source)"]
    );
    let r = apply(&u, &s).await;
    assert_eq!(r.applied.unwrap().suspended, 1);
    assert_eq!(
        user(&u, "bob@acme.test").await.status,
        UserStatus::Suspended
    );
    assert_eq!(
        user(&u, "eve@acme.test").await.unique_ref.as_deref(),
        Some("13121110-1514-1716-1819-1a1b1c1d1e03"),
        "objectGUID in its usual text form"
    );

    // Enabled again at the source: back, as the sync suspended him.
    ldap.modify(&format!(
        "dn: cn=Bob Ng,ou=people,{}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n",
        slapd::SUFFIX
    ));
    // His reference is written now: a disabled account's row changes nothing else.
    let p = preview(&u, &s).await;
    assert_eq!(
        changes_of(&p, "bob@acme.test"),
        [
            "unique reference: (none) → 13121110-1514-1716-1819-1a1b1c1d1e02",
            "status: suspended → active (enabled again at the source)"
        ]
    );
    clock.advance_ms(60_000);
    apply(&u, &s).await;
    assert_eq!(user(&u, "bob@acme.test").await.status, UserStatus::Active);

    // Someone an operator suspended by hand stays suspended whatever the directory says.
    clock.advance_ms(60_000);
    u.suspend_user(&Target::Email("eve@acme.test".into()))
        .await
        .unwrap();
    let p = preview(&u, &s).await;
    assert!(changes_of(&p, "eve@acme.test").is_empty());
    assert_eq!(count(&p, "updated"), 0);

    // AD's bit filter is the server's to evaluate: only enabled accounts are read.
    let enabled = source(&ldap.source_toml("ad", NO_LIMITS).replace(
        "filter = \"(objectClass=inetOrgPerson)\"",
        "filter = \"(&(objectClass=inetOrgPerson)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))\"",
    ));
    ldap.modify(&format!(
        "dn: cn=Ann Lee,ou=people,{}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n",
        slapd::SUFFIX
    ));
    assert_eq!(preview(&u, &enabled).await.entries, 2);

    // AD keeps membership on the entry: memberOf alone gives Eve the group's role.
    ldap.add(&format!(
        "dn: cn=Mail Admins,ou=groups,{s}\nobjectClass: groupOfNames\ncn: Mail Admins\n\
         member: cn=placeholder,{s}\n\n",
        s = slapd::SUFFIX
    ));
    ldap.modify(&format!(
        "dn: cn=Eve Ito,ou=people,{s}\nchangetype: modify\nadd: memberOf\n\
         memberOf: CN=Mail Admins,OU=Groups,{s}\n",
        s = slapd::SUFFIX
    ));
    let grouped = source(&ldap.source_toml(
        "ad",
        &format!(
            "{NO_LIMITS}[[sync.source.group]]\ndn = \"cn=mail admins,ou=groups,{}\"\n\
             role = \"User manager\"\n",
            slapd::SUFFIX
        ),
    ));
    u.reactivate_user(&Target::Email("eve@acme.test".into()))
        .await
        .unwrap();
    let p = preview(&u, &grouped).await;
    assert_eq!(changes_of(&p, "eve@acme.test"), ["+ User manager"]);
}
