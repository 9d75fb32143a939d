//! A plain OpenLDAP tree: the first sync, a rename found by entryUUID, leavers suspended
//! and their invitations revoked, undo, and a leaver who comes back.

use usher::domain::UserStatus;
use usher::service::RunOutcome;

use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, person};
use crate::{NO_LIMITS, apply, changes_of, corporate, count, preview, source, user};

crate::on_both_backends!(
    first_sync_renames_leavers_and_undo,
    a_source_that_creates_directly
);

async fn first_sync_renames_leavers_and_undo(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[
            person("ann", "Ann", "Lee", "ann@acme.test"),
            person("bob", "Bob", "Ng", "bob@acme.test"),
            person("cy", "Cy", "Oh", "cy@acme.test"),
            person("dee", "Dee", "Roy", "dee@acme.test"),
        ],
    ) else {
        return;
    };
    let (u, clock) = account(db, 20).await;
    corporate(&u, "bob@acme.test", "Bob", "Ng").await;
    corporate(&u, "dee@acme.test", "Dee", "Roy").await;
    let s = source(&ldap.source_toml("corp", NO_LIMITS));

    // First sync: the people usher lacks are invited, those it has gain their reference.
    let p = preview(&u, &s).await;
    assert_eq!(p.entries, 4);
    assert_eq!((count(&p, "new"), count(&p, "updated")), (2, 2));
    assert_eq!(count(&p, "missing"), 1, "the administrator, kept");
    assert!(
        changes_of(&p, "bob@acme.test")[0].starts_with("unique reference: (none) → "),
        "{:?}",
        changes_of(&p, "bob@acme.test")
    );
    assert_eq!(
        changes_of(&p, "admin@acme.test"),
        ["kept: the operator or an Administrator"]
    );
    let r = apply(&u, &s).await;
    let out = r.applied.unwrap();
    assert_eq!((out.invited, out.updated, out.suspended), (2, 2, 0));
    let bob = user(&u, "bob@acme.test").await;
    let uuid = bob.unique_ref.clone().unwrap();
    assert_eq!(uuid.len(), 36, "entryUUID: {uuid}");
    clock.advance_ms(60_000);
    assert_eq!(apply(&u, &s).await.outcome, RunOutcome::Unchanged);

    // A rename at the directory: the same user, by reference, under the new address.
    ldap.modify(&format!(
        "dn: uid=bob,ou=people,{}\nchangetype: modify\nreplace: mail\nmail: robert@acme.test\n-\nreplace: givenName\ngivenName: Robert\n",
        slapd::SUFFIX
    ));
    let p = preview(&u, &s).await;
    assert_eq!(count(&p, "updated"), 1);
    assert_eq!(
        changes_of(&p, "robert@acme.test"),
        [
            "address: bob@acme.test → robert@acme.test",
            "first name: Bob → Robert"
        ]
    );
    clock.advance_ms(60_000);
    apply(&u, &s).await;
    let robert = user(&u, "robert@acme.test").await;
    assert_eq!((robert.id, robert.first_name.as_str()), (bob.id, "Robert"));

    // Leavers: Dee's user is suspended, Cy's invitation revoked.
    ldap.delete(&[
        &format!("uid=dee,ou=people,{}", slapd::SUFFIX),
        &format!("uid=cy,ou=people,{}", slapd::SUFFIX),
    ]);
    let p = preview(&u, &s).await;
    assert_eq!(
        changes_of(&p, "dee@acme.test"),
        ["status: active → suspended (not in the directory)"]
    );
    assert_eq!(p.losses.suspend, 1);
    clock.advance_ms(60_000);
    let r = apply(&u, &s).await;
    let out = r.applied.clone().unwrap();
    assert_eq!((out.suspended, out.invitations_revoked), (1, 1));
    assert_eq!(
        user(&u, "dee@acme.test").await.status,
        UserStatus::Suspended
    );

    // Undo puts Dee back and reopens Cy's invitation.
    clock.advance_ms(60_000);
    let undone = u.sync_undo(r.run_id).await.unwrap();
    assert_eq!((undone.reactivated, undone.reopened), (1, 1));
    assert_eq!(user(&u, "dee@acme.test").await.status, UserStatus::Active);

    // Suspended again; then Dee comes back to the directory (a new entry, so a new
    // entryUUID): the sync that suspended her brings her back, by address.
    clock.advance_ms(60_000);
    apply(&u, &s).await;
    ldap.add(&person("dee", "Dee", "Roy", "dee@acme.test"));
    let p = preview(&u, &s).await;
    assert_eq!(
        changes_of(&p, "dee@acme.test"),
        ["status: suspended → active (enabled again at the source)"]
    );
    clock.advance_ms(60_000);
    apply(&u, &s).await;
    assert_eq!(user(&u, "dee@acme.test").await.status, UserStatus::Active);
    let history = u.sync_history(Some("corp"), 100).await.unwrap();
    let outcomes: Vec<&str> = history.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "applied").count(), 5);
}

/// `create = "direct"`: new people become active corporate users at once, each mailed a
/// week's link to choose a password; no invitation; undo takes them away again.
async fn a_source_that_creates_directly(db: &TestDb) {
    let Some((_dir, ldap)) = crate::directory(
        Shape::Plain,
        &[
            person("ann", "Ann", "Lee", "ann@acme.test"),
            person("bob", "Bob", "Ng", "bob@acme.test"),
        ],
    ) else {
        return;
    };
    let (u, _clock) = account(db, 20).await;
    let s = source(&ldap.source_toml("corp", "create = \"direct\"\n"));
    let before = u.status().await.unwrap();
    let r = apply(&u, &s).await;
    let out = r.applied.unwrap();
    assert_eq!((out.created, out.invited), (2, 0));
    let ann = user(&u, "ann@acme.test").await;
    assert_eq!(ann.status, UserStatus::Active);
    assert!(ann.unique_ref.is_some());
    let after = u.status().await.unwrap();
    assert_eq!(after.pending_invitations, before.pending_invitations);
    let queued = |s: &usher::service::Status| s.outbox_queued + s.outbox_undrafted;
    assert_eq!(queued(&after), queued(&before) + 2, "a link each");
    let mail = u.outbox(10).await.unwrap();
    assert!(
        mail.iter().any(|m| m.subject.contains("account is ready")),
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    // Ann's link works, for a week: her password is set and she may log in to mail.
    let token = welcome_token(&u, "ann@acme.test").await;
    let page = u.password_reset_page(&token).await.unwrap().unwrap();
    assert_eq!(page.email, "ann@acme.test");
    let pw = usher::config::Secret::new("tawny-quarry-lemon-88");
    u.reset_password(&token, &pw).await.unwrap();
    let d = u
        .user_detail(&usher::service::Target::Email("ann@acme.test".into()))
        .await
        .unwrap();
    assert!(d.mail.unwrap().may_login);
    u.sync_undo(r.run_id).await.unwrap();
    assert_eq!(u.status().await.unwrap().users, before.users);
}

/// The token of the link mailed to `to`, from the queued message.
async fn welcome_token(u: &usher::Usher, to: &str) -> String {
    let mut tx = u.store().read().await.unwrap();
    for m in tx.list_outbox(1, 100).await.unwrap() {
        let raw = tx.outbox_raw(m.id).await.unwrap().unwrap_or_default();
        let text = String::from_utf8_lossy(&raw)
            .replace("=\r\n", "")
            .replace("=\n", "");
        if !m.env_to.contains(to) {
            continue;
        }
        if let Some(at) = text.find("/password/reset/") {
            return text[at + "/password/reset/".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
    }
    panic!("no link mailed to {to}");
}
