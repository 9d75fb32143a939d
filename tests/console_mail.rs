//! Mail from the console (issue 7), against a real core on both backends. The template
//! editor: the preview follows the typing, a template that would be refused shows why and
//! is not saved, ^s saves a version, ^n/^p move between templates, ^r and ^s reset. The
//! invitation form's options: CC, BCC and an attached file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/drive.rs"]
mod drive;

use crossterm::event::{KeyCode, KeyModifiers};
use usher::mail::TemplateName;
use usher::tui::app::Modal;

use common::{TestDb, account};
use drive::Drive;

on_both_backends!(
    templates_are_edited_by_keyboard,
    an_invitation_with_copies_and_a_file_by_keyboard,
    the_console_says_why_inviting_is_off,
);

fn editing(d: &Drive) -> TemplateName {
    match &d.app.modal {
        Some(Modal::Template(f)) => f.name,
        other => panic!("the editor is not open: {other:?}"),
    }
}

async fn ctrl(d: &mut Drive, c: char) {
    d.press(KeyCode::Char(c), KeyModifiers::CONTROL).await;
}

async fn clear_subject(d: &mut Drive) {
    d.special(KeyCode::BackTab).await; // body -> subject
    d.special(KeyCode::End).await;
    for _ in 0..120 {
        d.special(KeyCode::Backspace).await;
    }
}

async fn templates_are_edited_by_keyboard(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let mut d = Drive::new(u.clone()).await;
    d.keys("T").await;
    assert_eq!(editing(&d), TemplateName::Invitation);
    assert!(d.screen().contains("Preview"));

    clear_subject(&mut d).await;
    d.keys("Welcome to {{ org }} {{ nope }}").await;
    let s = d.screen();
    assert!(s.contains("Cannot be saved") && s.contains("nope"), "{s}");
    ctrl(&mut d, 's').await;
    assert!(
        u.templates().await.unwrap().iter().all(|t| !t.customised),
        "nothing saved"
    );
    for _ in 0.." {{ nope }}".len() {
        d.special(KeyCode::Backspace).await;
    }
    assert!(
        d.screen().contains("Subject: Welcome to Acme"),
        "{}",
        d.screen()
    );
    ctrl(&mut d, 's').await;
    assert!(
        d.message().contains("saved the invitation template"),
        "{}",
        d.message()
    );
    let inv = u
        .templates()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "invitation")
        .unwrap();
    assert!(inv.customised);
    assert_eq!(inv.subject, "Welcome to {{ org }}");

    // Next template and back: the saved text is what the editor shows.
    ctrl(&mut d, 'n').await;
    assert_eq!(editing(&d), TemplateName::Reminder);
    ctrl(&mut d, 'p').await;
    assert_eq!(editing(&d), TemplateName::Invitation);
    assert!(d.screen().contains("Welcome to {{ org }}"));

    // usher's own text back, saved as a reset.
    ctrl(&mut d, 'r').await;
    ctrl(&mut d, 's').await;
    assert!(d.message().contains("usher's own again"), "{}", d.message());
    assert!(u.templates().await.unwrap().iter().all(|t| !t.customised));

    // Unsaved edits are marked, and neither ^n nor Esc drops them on the first press.
    d.keys("x").await;
    assert!(d.screen().contains("● modified"), "{}", d.screen());
    ctrl(&mut d, 'n').await;
    assert_eq!(
        editing(&d),
        TemplateName::Invitation,
        "^n once keeps the edits"
    );
    assert!(d.screen().contains("unsaved edits"), "{}", d.screen());
    d.special(KeyCode::Esc).await;
    assert!(d.app.modal.is_some(), "esc once keeps the edits");
    d.special(KeyCode::Esc).await;
    assert!(d.app.modal.is_none(), "esc twice drops them");
}

async fn an_invitation_with_copies_and_a_file_by_keyboard(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let file = db.dir.path().join("handbook.txt");
    std::fs::write(&file, "read me").unwrap();
    let mut d = Drive::new(u.clone()).await;
    d.keys("n").await;
    d.keys("ann@acme.test").await;
    for _ in 0..5 {
        d.special(KeyCode::Tab).await; // first, last, type, days, cc
    }
    d.keys("boss@acme.test").await;
    d.special(KeyCode::Tab).await;
    d.keys("audit@acme.test").await;
    d.special(KeyCode::Tab).await;
    d.keys(&file.display().to_string()).await;
    ctrl(&mut d, 's').await;
    assert!(d.app.modal.is_none(), "sent: {}", d.message());
    let msgs = u.outbox(10).await.unwrap();
    let m = msgs.iter().find(|m| m.kind == "invitation").unwrap();
    assert_eq!(m.env_to, "ann@acme.test,boss@acme.test,audit@acme.test");
    let mut tx = u.store().read().await.unwrap();
    let raw = String::from_utf8(tx.outbox_raw(m.id).await.unwrap().unwrap()).unwrap();
    assert!(
        raw.contains("Cc: boss@acme.test") && !raw.contains("audit@"),
        "{raw}"
    );
    assert!(raw.contains("filename=\"handbook.txt\""), "{raw}");
}

async fn the_console_says_why_inviting_is_off(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let mut d = Drive::new(u.clone()).await;
    d.keys("1").await;
    assert!(d.screen().contains("n invite"), "{}", d.screen());
    u.set_invite_block("admin@acme.test", Some("frozen during the audit"))
        .await
        .unwrap();
    ctrl(&mut d, 'r').await; // reload: the operator's rights come again
    assert!(
        !d.screen().contains("n invite"),
        "the key leaves the footer"
    );
    d.keys("n").await;
    assert!(d.app.modal.is_none());
    assert!(
        d.message().contains("frozen during the audit"),
        "{}",
        d.message()
    );
    d.keys(":").await;
    d.keys("invite ann@acme.test").await;
    d.special(KeyCode::Enter).await;
    assert!(d.app.modal.is_none());
    assert!(
        d.message().contains("frozen during the audit"),
        "{}",
        d.message()
    );
}
