//! Roles, grants and the operator's permissions: each rule, and each refusal's reason.

use usher::domain::{Actor, Permission, Scope, UserType};
use usher::service::{RoleSpec, Target, Who};
use usher::{Clash, Error};

use crate::common::{TestDb, account, invite_req};
use crate::seed;

crate::on_both_backends!(
    the_first_admin_is_an_administrator_and_system_roles_are_fixed,
    custom_roles_are_created_edited_and_deleted_with_their_grants,
    guests_cannot_hold_what_a_guest_lacks,
    an_operator_who_may_only_invite_cannot_change_roles,
    grants_at_mailbox_scope_and_to_pending_invitations,
    the_account_keeps_an_administrator,
);

fn user(email: &str) -> Who {
    Who::User(Target::Email(email.into()))
}

fn spec(name: &str, permissions: &[&str]) -> RoleSpec {
    RoleSpec {
        name: name.into(),
        description: format!("{name} role"),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

fn forbidden(r: Result<impl std::fmt::Debug, Error>, says: &str) {
    match r {
        Err(Error::Forbidden(m)) => assert!(m.contains(says), "{m}"),
        other => panic!("expected a refusal saying {says:?}, got {other:?}"),
    }
}

async fn the_first_admin_is_an_administrator_and_system_roles_are_fixed(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let roles = u.roles().await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.role.name.as_str()).collect();
    for n in [
        "Administrator",
        "User manager",
        "Professional",
        "Guest",
        "Owner",
        "Editor",
        "Reader",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let admin = u.role("administrator").await.unwrap();
    assert!(admin.view.role.system);
    assert_eq!(admin.members.len(), 1);
    assert_eq!(admin.members[0].email, "admin@acme.test");
    let op = u.operator().await.unwrap();
    assert!(op.may(Permission::ManageRoles) && op.may(Permission::InviteUsers));

    forbidden(
        u.edit_role("Administrator", &spec("Boss", &[])).await,
        "system role",
    );
    forbidden(u.delete_role("Reader", true).await, "system role");
    assert!(matches!(
        u.create_role(Scope::Account, &spec("guest", &[])).await,
        Err(Error::Conflict {
            with: Clash::Exists,
            ..
        })
    ));
}

async fn custom_roles_are_created_edited_and_deleted_with_their_grants(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(&u, &[("ann@acme.test", "Ann", "Lee", None)]).await;
    let r = u
        .create_role(
            Scope::Account,
            &spec("Auditors", &["reports.view", "messages.send"]),
        )
        .await
        .unwrap();
    assert_eq!(
        r.permissions,
        [Permission::ViewReports, Permission::SendMessages]
    );
    // A permission of the other scope, or one that does not exist, says which.
    match u
        .create_role(Scope::Account, &spec("Mixed", &["mailbox.read"]))
        .await
    {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!(field, "permissions");
            assert!(
                reason.contains("mailbox.read is a mailbox permission"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        u.create_role(Scope::Account, &spec("Users.Invite", &[]))
            .await,
        Err(Error::Invalid { field: "name", .. })
    ));
    assert!(matches!(
        u.create_role(Scope::Account, &spec("Bad", &["users.nuke"]))
            .await,
        Err(Error::Invalid { .. })
    ));

    // Seeded as a guest, who may not read reports.
    assert!(matches!(
        u.grant(&user("ann@acme.test"), "auditors", None).await,
        Err(Error::Forbidden(_))
    ));
    u.set_user_type(
        &Target::Email("ann@acme.test".into()),
        UserType::Professional,
    )
    .await
    .unwrap();
    u.grant(&user("ann@acme.test"), "auditors", None)
        .await
        .unwrap();
    let (_, perms) = u.grants(&user("ann@acme.test")).await.unwrap();
    assert_eq!(perms.into_iter().collect::<Vec<_>>(), r.permissions);
    assert!(matches!(
        u.grant(&user("ann@acme.test"), "Auditors", None).await,
        Err(Error::Conflict {
            with: Clash::Exists,
            ..
        })
    ));

    let edited = u
        .edit_role("Auditors", &spec("Readers of reports", &["reports.view"]))
        .await
        .unwrap();
    assert_eq!(edited.role.name, "Readers of reports");
    let (_, perms) = u.grants(&user("ann@acme.test")).await.unwrap();
    assert_eq!(
        perms.into_iter().collect::<Vec<_>>(),
        [Permission::ViewReports]
    );

    // In use: deleting asks first, then takes the role from its holders.
    assert!(matches!(
        u.delete_role("readers of reports", false).await,
        Err(Error::Conflict { with: Clash::InUse, detail: m }) if m.contains("held by 1")
    ));
    assert_eq!(u.delete_role("readers of reports", true).await.unwrap(), 1);
    let (grants, perms) = u.grants(&user("ann@acme.test")).await.unwrap();
    assert!(grants.is_empty() && perms.is_empty());
    let audit: Vec<String> = u
        .audit(20)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in ["role.create", "grant", "role.edit", "role.delete"] {
        assert!(audit.iter().any(|x| x == a), "{a} not audited: {audit:?}");
    }
}

async fn guests_cannot_hold_what_a_guest_lacks(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(&u, &[("gus@acme.test", "Gus", "Guest", None)]).await; // seeded as a guest
    for what in [
        "users.invite",
        "messages.recall",
        "signatures.request",
        "Professional",
    ] {
        forbidden(
            u.grant(&user("gus@acme.test"), what, None).await,
            "a guest cannot hold",
        );
    }
    u.grant(&user("gus@acme.test"), "Guest", None)
        .await
        .unwrap();
    u.grant(&user("gus@acme.test"), "files.share", None)
        .await
        .unwrap();
    // A custom role a guest holds cannot gain a permission a guest lacks.
    u.create_role(Scope::Account, &spec("Partners", &["messages.send"]))
        .await
        .unwrap();
    u.grant(&user("gus@acme.test"), "Partners", None)
        .await
        .unwrap();
    forbidden(
        u.edit_role(
            "Partners",
            &spec("Partners", &["messages.send", "messages.recall"]),
        )
        .await,
        "gus@acme.test",
    );
    // Becoming professional and back: back is refused while a professional grant is held.
    u.set_user_type(
        &Target::Email("gus@acme.test".into()),
        UserType::Professional,
    )
    .await
    .unwrap();
    u.grant(&user("gus@acme.test"), "messages.recall", None)
        .await
        .unwrap();
    forbidden(
        u.set_user_type(&Target::Email("gus@acme.test".into()), UserType::Guest)
            .await,
        "messages.recall",
    );
    u.revoke_grant(&user("gus@acme.test"), "messages.recall", None)
        .await
        .unwrap();
    u.set_user_type(&Target::Email("gus@acme.test".into()), UserType::Guest)
        .await
        .unwrap();
}

async fn an_operator_who_may_only_invite_cannot_change_roles(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(&u, &[("ivy@acme.test", "Ivy", "Inviter", None)]).await;
    u.set_user_type(
        &Target::Email("ivy@acme.test".into()),
        UserType::Professional,
    )
    .await
    .unwrap();
    u.grant(&user("ivy@acme.test"), "users.invite", None)
        .await
        .unwrap();
    let ivy = u.with_actor(Actor::new("ivy@acme.test"));
    assert_eq!(
        ivy.operator()
            .await
            .unwrap()
            .permissions
            .into_iter()
            .collect::<Vec<_>>(),
        [Permission::InviteUsers]
    );
    ivy.invite(&invite_req("new@acme.test", UserType::Guest))
        .await
        .unwrap();
    forbidden(
        ivy.grant(&user("ivy@acme.test"), "Administrator", None)
            .await,
        "roles.manage",
    );
    forbidden(
        ivy.create_role(Scope::Account, &spec("Mine", &[])).await,
        "roles.manage",
    );
    forbidden(
        ivy.suspend_user(&Target::Email("admin@acme.test".into()))
            .await,
        "users.manage",
    );
    forbidden(ivy.audit(5).await, "reports.view");
    // Someone who is not a user of the account may do nothing; the host's own
    // administrator (no operator configured) may do everything.
    let stranger = u.with_actor(Actor::new("eve@elsewhere.test"));
    forbidden(
        stranger
            .invite(&invite_req("x@acme.test", UserType::Guest))
            .await,
        "not an active user",
    );
    let host = u.with_actor(Actor::new("os:root"));
    host.create_role(Scope::Account, &spec("Host made", &[]))
        .await
        .unwrap();
    // A suspended operator loses their rights.
    u.suspend_user(&Target::Email("ivy@acme.test".into()))
        .await
        .unwrap();
    forbidden(
        ivy.invite(&invite_req("late@acme.test", UserType::Guest))
            .await,
        "not an active user",
    );
}

async fn grants_at_mailbox_scope_and_to_pending_invitations(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    seed(&u, &[("ann@acme.test", "Ann", "Lee", None)]).await;
    let shared = u
        .create_shared_mailbox("Support@acme.test", "Support")
        .await
        .unwrap();
    assert_eq!(
        (shared.address.as_str(), shared.kind.as_str()),
        ("support@acme.test", "shared")
    );
    assert!(matches!(
        u.create_shared_mailbox("help@elsewhere.test", "Help").await,
        Err(Error::Invalid { .. })
    ));
    // A mailbox role needs a mailbox, and an account role must not name one.
    assert!(matches!(
        u.grant(&user("ann@acme.test"), "Editor", None).await,
        Err(Error::Invalid { reason, .. }) if reason.contains("--mailbox")
    ));
    assert!(matches!(
        u.grant(&user("ann@acme.test"), "Guest", Some("support@acme.test"))
            .await,
        Err(Error::Invalid { .. })
    ));
    u.grant(&user("ann@acme.test"), "Editor", Some("support@acme.test"))
        .await
        .unwrap();
    // A guest may read and send from a mailbox, but not send as it.
    forbidden(
        u.grant(
            &user("ann@acme.test"),
            "mailbox.send_as",
            Some("support@acme.test"),
        )
        .await,
        "mailbox.send_as",
    );
    let (grants, perms) = u.grants(&user("ann@acme.test")).await.unwrap();
    assert_eq!(grants[0].mailbox.as_deref(), Some("support@acme.test"));
    assert!(
        perms.contains(&Permission::MailboxSend) && !perms.contains(&Permission::MailboxManage)
    );

    // A personal mailbox: the user owns it.
    let mine = u
        .create_personal_mailbox(&Target::Email("ann@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(
        (mine.kind.as_str(), mine.owner.as_deref()),
        ("personal", Some("ann@acme.test"))
    );
    let owner = u.role("Owner").await.unwrap();
    assert_eq!(owner.members[0].mailbox.as_deref(), Some("ann@acme.test"));

    // A pending invitation is promised grants, by address.
    u.invite(&invite_req("bob@acme.test", UserType::Professional))
        .await
        .unwrap();
    u.grant(&user("bob@acme.test"), "User manager", None)
        .await
        .unwrap();
    let (grants, _) = u
        .grants(&Who::Invitation(Target::Email("bob@acme.test".into())))
        .await
        .unwrap();
    assert_eq!(grants[0].role.as_deref(), Some("User manager"));
    assert!(grants[0].invitation_id.is_some() && grants[0].user_id.is_none());
    let members = u.role("User manager").await.unwrap().members;
    assert!(members[0].invitation && members[0].email == "bob@acme.test");
}

async fn the_account_keeps_an_administrator(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    forbidden(
        u.revoke_grant(&user("admin@acme.test"), "Administrator", None)
            .await,
        "last active Administrator",
    );
    seed(&u, &[("deb@acme.test", "Deb", "Two", None)]).await;
    u.set_user_type(
        &Target::Email("deb@acme.test".into()),
        UserType::Professional,
    )
    .await
    .unwrap();
    u.grant(&user("deb@acme.test"), "Administrator", None)
        .await
        .unwrap();
    // Now there are two: one may go.
    u.revoke_grant(&user("admin@acme.test"), "Administrator", None)
        .await
        .unwrap();
    let admin = u.role("Administrator").await.unwrap();
    assert_eq!(admin.members.len(), 1);
    assert_eq!(admin.members[0].email, "deb@acme.test");
    // An import whose file forgets an Administrator does not suspend them.
    let f = db.dir.path().join("staff.csv");
    std::fs::write(&f, "email\nadmin@acme.test\n").unwrap();
    let parsed = usher::import::parse_file(&f, &Default::default(), &[]).unwrap();
    let host = u.with_actor(Actor::new("os:root"));
    let out = host
        .import_apply(
            &parsed,
            &usher::service::ApplyOptions {
                missing: usher::service::Missing::Suspend,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.suspended, 0, "deb is an Administrator");
}
