//! Groups to roles: members gain the role a group maps to, at account scope or on a
//! mailbox; someone who leaves the group loses it only if the sync gave it; role losses
//! count against the limits; undo gives them back.

use usher::service::{RunOutcome, Target, Who};

use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, person};
use crate::{NO_LIMITS, apply, changes_of, corporate, preview, source};

crate::on_both_backends!(groups_give_roles_and_take_back_only_their_own);

const GROUPS: &str = "[[sync.source.group]]\ndn = \"cn=helpdesk,ou=groups,dc=acme,dc=test\"\n\
    role = \"User manager\"\n[[sync.source.group]]\ndn = \"CN=Sales, OU=Groups,DC=acme,DC=test\"\n\
    role = \"Editor\"\nmailbox = \"sales@acme.test\"\n";

fn group(cn: &str, members: &[&str]) -> String {
    let mut out = format!(
        "dn: cn={cn},ou=groups,{}\nobjectClass: groupOfNames\ncn: {cn}\nmember: cn=placeholder,{}\n",
        slapd::SUFFIX,
        slapd::SUFFIX
    );
    for m in members {
        out.push_str(&format!("member: uid={m},ou=people,{}\n", slapd::SUFFIX));
    }
    out + "\n"
}

async fn roles_of(u: &usher::Usher, email: &str) -> Vec<String> {
    let d = u.user_detail(&Target::Email(email.into())).await.unwrap();
    let mut out: Vec<String> = d.grants.iter().map(|g| g.label()).collect();
    out.sort();
    out
}

async fn groups_give_roles_and_take_back_only_their_own(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[
            person("ann", "Ann", "Lee", "ann@acme.test"),
            person("bob", "Bob", "Ng", "bob@acme.test"),
            person("cy", "Cy", "Oh", "cy@acme.test"),
            group("helpdesk", &["ann", "bob"]),
            group("sales", &["cy"]),
        ],
    ) else {
        return;
    };
    let (u, clock) = account(db, 20).await;
    u.create_shared_mailbox("sales@acme.test", "Sales")
        .await
        .unwrap();
    for (mail, first) in [
        ("ann@acme.test", "Ann"),
        ("bob@acme.test", "Bob"),
        ("cy@acme.test", "Cy"),
    ] {
        corporate(&u, mail, first, "X").await;
    }
    // Bob's role was given by hand: the directory never takes it.
    let bob = Who::User(Target::Email("bob@acme.test".into()));
    u.grant(&bob, "User manager", None).await.unwrap();
    let s = source(&ldap.source_toml("corp", &format!("{NO_LIMITS}{GROUPS}")));

    let p = preview(&u, &s).await;
    assert!(changes_of(&p, "ann@acme.test").contains(&"+ User manager".to_owned()));
    assert!(changes_of(&p, "cy@acme.test").contains(&"+ Editor on sales@acme.test".to_owned()));
    assert!(
        !changes_of(&p, "bob@acme.test")
            .iter()
            .any(|c| c.starts_with('+'))
    );
    let out = apply(&u, &s).await.applied.unwrap();
    assert_eq!(out.roles_changed, 2);
    assert_eq!(roles_of(&u, "ann@acme.test").await, ["User manager"]);
    assert_eq!(
        roles_of(&u, "cy@acme.test").await,
        ["Editor on sales@acme.test"]
    );

    // Ann and Bob leave the group: Ann loses what the sync gave, Bob keeps his own.
    ldap.modify(&format!(
        "dn: cn=helpdesk,ou=groups,{}\nchangetype: modify\ndelete: member\nmember: uid=ann,ou=people,{}\nmember: uid=bob,ou=people,{}\n",
        slapd::SUFFIX, slapd::SUFFIX, slapd::SUFFIX
    ));
    clock.advance_ms(60_000);
    let p = preview(&u, &s).await;
    assert_eq!(
        changes_of(&p, "ann@acme.test"),
        ["- User manager (no longer in its group)"]
    );
    assert!(changes_of(&p, "bob@acme.test").is_empty());
    assert_eq!(p.losses.role_loss, 1);
    // A limit of none on role losses holds the run.
    let tight = source(&ldap.source_toml(
        "corp",
        &format!("[sync.source.limits]\nrole_loss = 0\n{GROUPS}"),
    ));
    let held = apply(&u, &tight).await;
    assert_eq!(held.outcome, RunOutcome::Held);
    assert_eq!(held.held.unwrap().kind, "role_loss");
    let r = apply(&u, &s).await;
    assert_eq!(r.applied.unwrap().roles_changed, 1);
    assert!(roles_of(&u, "ann@acme.test").await.is_empty());
    assert_eq!(roles_of(&u, "bob@acme.test").await, ["User manager"]);

    clock.advance_ms(60_000);
    u.sync_undo(r.run_id).await.unwrap();
    assert_eq!(roles_of(&u, "ann@acme.test").await, ["User manager"]);
}
