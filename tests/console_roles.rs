//! The Roles and Domains tabs, and grants from a user's detail, driven by keys against a
//! real core on both backends: each key's effects run through the console's own worker,
//! and the outcome is read back from the database and from the drawn screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/drive.rs"]
mod drive;

use crossterm::event::{KeyCode, KeyModifiers};
use usher::Usher;
use usher::domain::{Actor, Permission, UserType};
use usher::service::{NewCorporateUser, Target, Who};
use usher::tui::app::{Input, Modal, Tab};

use common::{TestDb, account};
use drive::Drive;

on_both_backends!(
    roles_are_created_and_granted_by_keyboard,
    domains_and_mailboxes_by_keyboard,
    a_limited_operator_sees_and_may_do_only_what_they_are_allowed,
    a_password_reset_link_is_sent_from_the_users_tab,
);

async fn corporate(u: &Usher, email: &str) {
    u.create_user(&NewCorporateUser {
        email: email.into(),
        first_name: "Ivy".into(),
        last_name: "Ng".into(),
        user_type: UserType::Professional,
        personal_mailbox: false,
        timezone: String::new(),
        phone: String::new(),
    })
    .await
    .unwrap();
}

fn labels(u: &[usher::store::Grant]) -> Vec<String> {
    u.iter().map(|g| g.label()).collect()
}

async fn roles_are_created_and_granted_by_keyboard(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    corporate(&u, "ivy@acme.test").await;
    u.create_shared_mailbox("sales@acme.test", "Sales")
        .await
        .unwrap();
    let mut d = Drive::new(u.clone()).await;

    d.keys("4").await;
    assert_eq!(d.app.tab, Tab::Roles);
    let s = d.screen();
    assert!(
        s.contains("Administrator") && s.contains("User manager"),
        "{s}"
    );
    assert!(
        s.contains("admin@acme.test"),
        "members of Administrator:\n{s}"
    );
    d.keys("m").await;
    let s = d.screen();
    assert!(
        s.contains("users.invite") && s.contains("✓"),
        "matrix:\n{s}"
    );
    d.keys("m").await;

    // A system role cannot be edited or deleted, and the console says so.
    d.keys("e").await;
    assert!(d.app.modal.is_none());
    assert!(d.message().contains("system role"), "{}", d.message());

    // A custom role: name, description, scope left at account, search, tick, save.
    d.keys("n").await;
    assert!(matches!(d.app.modal, Some(Modal::Role(_))));
    d.keys("Helpdesk").await;
    d.special(KeyCode::Tab).await;
    d.keys("Front line").await;
    d.special(KeyCode::Tab).await;
    d.special(KeyCode::Tab).await;
    d.keys("invite").await;
    d.special(KeyCode::Tab).await;
    d.keys(" ").await;
    let s = d.screen();
    assert!(s.contains("[x] users.invite"), "{s}");
    d.press(KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    assert!(d.app.modal.is_none(), "{}", d.message());
    let role = u.role("Helpdesk").await.unwrap();
    assert_eq!(role.view.permissions, vec![Permission::InviteUsers]);
    assert_eq!(role.view.role.description, "Front line");

    // Grant it to Ivy from the Users tab, completing the name with Tab; then a mailbox
    // role, completing the mailbox.
    d.select_user("ivy@acme.test").await;
    d.keys("+").await;
    assert!(matches!(d.app.input, Some(Input::Prompt(_))));
    d.keys("Helpd").await;
    d.special(KeyCode::Tab).await;
    d.special(KeyCode::Enter).await;
    assert_eq!(d.message(), "Granted Helpdesk");
    d.keys("+").await;
    d.keys("Editor on sa").await;
    d.special(KeyCode::Tab).await;
    d.special(KeyCode::Enter).await;
    assert_eq!(d.message(), "Granted Editor on sales@acme.test");
    let ivy = Who::User(Target::Email("ivy@acme.test".into()));
    let (grants, perms) = u.grants(&ivy).await.unwrap();
    assert_eq!(labels(&grants), ["Helpdesk", "Editor on sales@acme.test"]);
    assert!(perms.contains(&Permission::MailboxSend));

    // A refusal reaches the status line with its reason.
    d.keys("+").await;
    d.keys("no-such-role").await;
    d.special(KeyCode::Enter).await;
    assert!(d.message().contains("no-such-role"), "{}", d.message());

    // The detail lists the grants; revoke cycles through them with Tab.
    d.special(KeyCode::Enter).await;
    let s = d.screen();
    assert!(s.contains("Roles and permissions (2)"), "{s}");
    assert!(s.contains("Editor on sales@acme.test"), "{s}");
    d.keys("-").await;
    d.special(KeyCode::Tab).await;
    d.special(KeyCode::Tab).await;
    d.special(KeyCode::Enter).await;
    assert_eq!(d.message(), "Revoked Editor on sales@acme.test");
    let (grants, _) = u.grants(&ivy).await.unwrap();
    assert_eq!(labels(&grants), ["Helpdesk"]);

    // Edit the role: add a permission; then delete it after a question naming its holder.
    d.keys("4").await;
    let at = d
        .app
        .roles
        .rows
        .iter()
        .position(|r| r.role.name == "Helpdesk")
        .unwrap();
    d.keys("g").await;
    for _ in 0..at {
        d.keys("j").await;
    }
    let s = d.screen();
    assert!(s.contains("ivy@acme.test"), "Helpdesk's members:\n{s}");
    d.keys("e").await;
    for _ in 0..4 {
        d.special(KeyCode::Tab).await;
    }
    d.keys("j ").await;
    d.press(KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    assert_eq!(
        u.role("Helpdesk").await.unwrap().view.permissions.len(),
        2,
        "{}",
        d.message()
    );
    d.keys("d").await;
    let Some(Modal::Confirm { prompt, .. }) = &d.app.modal else {
        panic!("delete asks first: {}", d.message())
    };
    assert!(prompt.contains("1 holder loses it"), "{prompt}");
    d.keys("y").await;
    assert!(u.role("Helpdesk").await.is_err());
    assert!(u.grants(&ivy).await.unwrap().0.is_empty());
}

async fn domains_and_mailboxes_by_keyboard(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let mut d = Drive::new(u.clone()).await;
    d.keys("5").await;
    assert_eq!(d.app.tab, Tab::Domains);
    assert!(d.screen().contains("acme.test"));

    d.keys("n").await;
    d.keys("beta.test").await;
    d.special(KeyCode::Enter).await;
    assert!(
        d.message().starts_with("Added beta.test"),
        "{}",
        d.message()
    );
    d.keys("j").await;
    let s = d.screen();
    assert!(s.contains("_usher-verification.beta.test"), "{s}");

    // Not verified: activating is refused, with the reason.
    d.keys("a").await;
    assert!(d.message().contains("verif"), "{}", d.message());
    d.keys("V").await;
    d.keys("air-gapped; checked by phone").await;
    d.special(KeyCode::Enter).await;
    assert_eq!(d.message(), "beta.test is verified");
    d.keys("a").await;
    assert_eq!(d.message(), "beta.test is active");
    let beta = |v: Vec<usher::service::DomainView>| {
        v.into_iter()
            .find(|d| d.domain.name == "beta.test")
            .unwrap()
    };
    let b = beta(u.domains().await.unwrap());
    assert!(b.domain.verified && b.domain.active);
    assert_eq!(
        b.domain.verified_reason.as_deref(),
        Some("air-gapped; checked by phone")
    );
    assert!(d.screen().contains("manual"));

    // A shared mailbox on the new domain, then deactivation after a question.
    d.keys("b").await;
    d.keys("desk@beta.test Help desk").await;
    d.special(KeyCode::Enter).await;
    assert_eq!(d.message(), "Created the shared mailbox desk@beta.test");
    assert!(d.screen().contains("Help desk"));
    d.keys("x").await;
    assert!(matches!(d.app.modal, Some(Modal::Confirm { .. })));
    d.keys("y").await;
    assert!(!beta(u.domains().await.unwrap()).domain.active);
    // A corporate user by keyboard: refused on the inactive domain, with the reason kept
    // in the form; created on the active one, as a guest with a personal mailbox.
    d.keys("2c").await;
    assert!(matches!(d.app.modal, Some(Modal::User(_))));
    d.keys("new@beta.test").await;
    d.press(KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    let s = d.screen();
    assert!(s.contains("beta.test is not active"), "{s}");
    for _ in 0..13 {
        d.special(KeyCode::Backspace).await;
    }
    d.keys("new@acme.test").await;
    for field in [
        "New",
        "Person",
        " ",
        " ",
        "Europe/Paris",
        "+33 1 23 45 67 89",
    ] {
        d.special(KeyCode::Tab).await;
        d.keys(field).await;
    }
    d.press(KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    assert!(d.app.modal.is_none(), "{}", d.message());
    assert_eq!(
        d.message(),
        "Created new@acme.test, active, without an invitation"
    );
    let new = u
        .user_detail(&Target::Email("new@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(new.user.user_type, UserType::Guest);
    assert_eq!(new.user.display_name, "New Person");
    assert!(
        labels(&new.grants).contains(&"Owner on new@acme.test".to_owned()),
        "{:?}",
        labels(&new.grants)
    );
}

async fn a_limited_operator_sees_and_may_do_only_what_they_are_allowed(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    corporate(&u, "ivy@acme.test").await;
    let ivy = Who::User(Target::Email("ivy@acme.test".into()));
    u.grant(&ivy, "users.invite", None).await.unwrap();
    let mut d = Drive::new(u.with_actor(Actor::new("ivy@acme.test"))).await;
    let op = d.app.operator.clone().unwrap();
    assert_eq!(op.permissions.len(), 1);

    // Users: suspend and grant are not offered in the footer, and pressed they explain.
    d.select_user("admin@acme.test").await;
    let s = d.screen();
    assert!(!s.contains("suspend") && !s.contains("grant"), "{s}");
    d.keys("z").await;
    assert!(d.app.modal.is_none());
    assert!(
        d.message().contains("needs the permission users.manage"),
        "{}",
        d.message()
    );
    d.keys("+").await;
    assert!(d.app.input.is_none());
    assert!(d.message().contains("roles.manage"), "{}", d.message());

    // Roles and Domains can be read, not changed.
    d.keys("4").await;
    assert!(d.screen().contains("Administrator"));
    d.keys("n").await;
    assert!(d.app.modal.is_none());
    d.keys("5").await;
    d.keys("n").await;
    assert!(d.app.input.is_none());
    assert!(d.message().contains("domains.manage"), "{}", d.message());

    // The help marks what is not permitted; inviting is.
    let help = d.app.keymap.help();
    let users = &help.iter().find(|(c, _)| c.name() == "users").unwrap().1;
    let row = |desc: &str| {
        users
            .iter()
            .find(|(_, d)| d.starts_with(desc))
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(row("suspend"), "suspend (not permitted)");
    assert_eq!(row("invite"), "invite");
    d.keys("1n").await;
    assert!(matches!(d.app.modal, Some(Modal::Form(_))));
}

async fn a_password_reset_link_is_sent_from_the_users_tab(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    corporate(&u, "ivy@acme.test").await;
    let mut d = Drive::new(u.clone()).await;
    d.select_user("ivy@acme.test").await;
    d.special(KeyCode::Enter).await;
    let s = d.screen_at(80, 24);
    assert!(s.contains("Mail login  no: no password yet"), "{s}");
    d.keys("P").await;
    let s = d.screen_at(80, 24);
    assert!(
        s.contains("Mail a link to choose a new password to ivy@acme.test?"),
        "{s}"
    );
    // Enter is the safe answer: nothing is sent.
    d.special(KeyCode::Enter).await;
    let store = u.store().clone();
    let queued = |store: usher::store::Store| async move {
        let mut tx = store.read().await.unwrap();
        tx.list_outbox(1, 100).await.unwrap().len()
    };
    assert_eq!(queued(store.clone()).await, 0);
    d.keys("P").await;
    d.keys("y").await;
    assert_eq!(d.message(), "Sent a reset link to ivy@acme.test");
    assert_eq!(queued(store.clone()).await, 1);
    let mut tx = store.read().await.unwrap();
    let m = tx.list_outbox(1, 10).await.unwrap().remove(0);
    assert!(m.subject.contains("Choose a new password"), "{}", m.subject);
}
