//! Every screen of the console at 80x24, on a real core (SQLite, a fixed clock): each
//! tab, form, dialog and the help. Each says how to act, how to get help or how to
//! leave, and is kept as a snapshot so that a change to any of them is seen in review.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/drive.rs"]
mod drive;

use common::{TestDb, account, invite_req};
use crossterm::event::{KeyCode, KeyModifiers};
use drive::Drive;
use usher::domain::{Scope, UserType};
use usher::service::{NewCorporateUser, RoleSpec};
use usher::tui::app::Modal;

const W: u16 = 80;
const H: u16 = 24;

/// An account shaped like a small site: invitations, corporate users, a custom role, a
/// shared mailbox and a second domain.
async fn site() -> (TestDb, Drive) {
    let db = TestDb::sqlite();
    let (u, _clock) = account(&db, 10).await;
    u.invite(&invite_req(
        "ann.lee@acme.test,bob.smith@acme.test,carol.jones@acme.test",
        UserType::Professional,
    ))
    .await
    .unwrap();
    u.invite(&invite_req("guest.one@partner.example", UserType::Guest))
        .await
        .unwrap();
    for (i, name) in ["ivy", "joe", "kim", "lou", "max", "ned", "oli"]
        .iter()
        .enumerate()
    {
        u.create_user(&NewCorporateUser {
            email: format!("{name}@acme.test"),
            first_name: name.to_uppercase(),
            last_name: format!("Staff{i}"),
            user_type: if i % 2 == 0 {
                UserType::Professional
            } else {
                UserType::Guest
            },
            personal_mailbox: false,
            timezone: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
    }
    u.create_role(
        Scope::Account,
        &RoleSpec {
            name: "Helpdesk".into(),
            description: "invites and resends".into(),
            permissions: vec!["users.invite".into()],
        },
    )
    .await
    .unwrap();
    u.create_shared_mailbox("sales@acme.test", "Sales team")
        .await
        .unwrap();
    let d = Drive::new(u).await;
    (db, d)
}

/// The bottom line says how to get help or how to leave (or answer), at 80 columns.
fn assert_can_leave(s: &str) {
    let footer = s.lines().last().unwrap_or_default();
    assert!(
        footer.contains("? help") || footer.contains("esc") || footer.contains("n no"),
        "no way to get help or leave in the footer:\n{s}"
    );
}

async fn shot(d: &mut Drive) -> String {
    let s = d.screen_at(W, H);
    assert_can_leave(&s);
    s
}

#[tokio::test]
async fn every_tab_at_80x24() {
    let (_db, mut d) = site().await;
    let s = shot(&mut d).await;
    assert!(s.contains("? help") && s.contains("q quit"), "{s}");
    insta::assert_snapshot!("invitations", s);
    d.keys("2").await;
    let s = shot(&mut d).await;
    assert!(s.contains("? help") && s.contains("q quit"), "{s}");
    insta::assert_snapshot!("users", s);
    d.special(KeyCode::Enter).await;
    insta::assert_snapshot!("users_detail", shot(&mut d).await);
    d.special(KeyCode::Esc).await;
    d.keys("3").await;
    let s = shot(&mut d).await;
    assert!(s.contains("? help") && s.contains("q quit"), "{s}");
    insta::assert_snapshot!("import", s);
    d.keys("4").await;
    let s = shot(&mut d).await;
    assert!(s.contains("? help") && s.contains("q quit"), "{s}");
    insta::assert_snapshot!("roles", s);
    d.keys("m").await;
    let s = shot(&mut d).await;
    assert!(s.contains("Helpdesk") || s.contains("(h/l)"), "{s}");
    insta::assert_snapshot!("roles_matrix", s);
    d.special(KeyCode::Esc).await;
    assert!(!d.app.roles.matrix, "esc leaves the matrix");
    d.keys("5").await;
    let s = shot(&mut d).await;
    assert!(s.contains("? help") && s.contains("q quit"), "{s}");
    insta::assert_snapshot!("domains", s);
}

#[tokio::test]
async fn every_form_at_80x24_keeps_its_keys_in_view() {
    let (_db, mut d) = site().await;
    d.keys("n").await;
    let s = shot(&mut d).await;
    assert!(
        s.contains("^s send") && s.contains("^a invite another"),
        "{s}"
    );
    insta::assert_snapshot!("invite_form", s);
    d.special(KeyCode::Esc).await;
    d.keys("2c").await;
    let s = shot(&mut d).await;
    assert!(s.contains("^s create") && !s.contains("^a"), "{s}");
    insta::assert_snapshot!("corporate_user_form", s);
    d.special(KeyCode::Esc).await;
    d.keys("4n").await;
    let s = shot(&mut d).await;
    assert!(s.contains("^s save"), "{s}");
    insta::assert_snapshot!("role_form", s);
    d.special(KeyCode::Esc).await;
    d.keys("T").await;
    assert!(matches!(d.app.modal, Some(Modal::Template(_))));
    let s = shot(&mut d).await;
    assert!(
        s.contains("^s save") && s.contains("^n next template"),
        "{s}"
    );
    assert!(
        !s.contains("Example Ltd"),
        "the preview names the account: {s}"
    );
    insta::assert_snapshot!("template_editor", s);
}

#[tokio::test]
async fn every_dialog_at_80x24() {
    let (_db, mut d) = site().await;
    d.keys("x").await;
    let s = shot(&mut d).await;
    assert!(s.contains("enter no (the default)"), "{s}");
    insta::assert_snapshot!("confirm_revoke", s);
    d.special(KeyCode::Enter).await;
    assert!(d.app.modal.is_none());
    d.special(KeyCode::Enter).await;
    let s = shot(&mut d).await;
    assert!(s.contains("Last error"), "{s}");
    insta::assert_snapshot!("invitation_detail", s);
    d.special(KeyCode::Esc).await;
    // Seven users marked for removal: the count must be typed.
    d.keys("2*").await;
    d.keys("d").await;
    let s = shot(&mut d).await;
    assert!(s.contains("Type 8 and Enter"), "{s}");
    insta::assert_snapshot!("confirm_typed_removal", s);
    d.special(KeyCode::Esc).await;
    d.keys("?").await;
    let s = shot(&mut d).await;
    assert!(
        s.contains("users (here)"),
        "the help opens on the tab's keys:\n{s}"
    );
    insta::assert_snapshot!("help", s);
    // The help pages to its end and no further.
    for _ in 0..40 {
        d.special(KeyCode::PageDown).await;
    }
    let end = shot(&mut d).await;
    assert!(end.contains(":quit") && end.contains(" end "), "{end}");
    d.special(KeyCode::PageDown).await;
    assert_eq!(shot(&mut d).await, end, "no scrolling past the end");
}

#[tokio::test]
async fn forty_columns_keep_the_address_before_the_type() {
    let (_db, mut d) = site().await;
    d.keys("2").await;
    let s = d.screen_at(40, 16);
    assert!(s.contains("ivy@acme.test"), "{s}");
    assert!(
        !s.contains("professional"),
        "the type gives way first:\n{s}"
    );
    d.press(KeyCode::Char('l'), KeyModifiers::CONTROL).await;
    assert!(
        d.app.redraw,
        "^l asks the terminal layer for a full repaint"
    );
}
