//! The console's update step for what makes a newcomer trust it (each case seen in a
//! trial by hand): safe answers by default, typed counts for large removals, marks kept
//! until an action succeeds, risky import choices dropped with the file, feedback for
//! every key, and hints that never read as values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/console_app.rs"]
mod console_app;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use usher::Kind;
use usher::tui::action::{Action, Effect, UserPage};
use usher::tui::app::{Input, Modal};
use usher::tui::failure::Failure;
use usher::tui::theme::Theme;
use usher::tui::view;

use console_app::*;

fn said(app: &usher::tui::app::App) -> String {
    app.message
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}

fn review(text: &str, users: i64, dir: &std::path::Path) -> usher::tui::tabs::import::Review {
    review_against(text, dir, &[], users, 50)
}

fn open(app: &mut usher::tui::app::App, name: &str) -> u64 {
    app.update(key('o'));
    for c in name.chars() {
        app.update(key(c));
    }
    match app.update(special(KeyCode::Enter)).as_slice() {
        [Effect::PreviewImport { generation, .. }] => *generation,
        other => panic!("{other:?}"),
    }
}

#[test]
fn enter_answers_no_and_only_y_goes_on() {
    let mut app = loaded_app(false);
    app.update(key('x'));
    assert!(app.update(special(KeyCode::Enter)).is_empty());
    assert!(app.modal.is_none());
    assert!(said(&app).contains("nothing was changed"), "{}", said(&app));
    app.update(key('x'));
    assert!(
        app.update(key('q')).is_empty(),
        "an unrelated key goes nowhere"
    );
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    assert!(matches!(
        app.update(key('y')).as_slice(),
        [Effect::Revoke(_)]
    ));
}

#[test]
fn resending_every_expired_invitation_asks_with_the_count() {
    let mut app = loaded_app(false);
    let fx = app.update(key('R'));
    assert!(
        matches!(fx.as_slice(), [Effect::AskResendExpired]),
        "{fx:?}"
    );
    assert!(app.modal.is_none(), "not before the count is known");
}

/// The Import tab with `text` read and planned against an account of `users` users.
fn reviewing(text: &str, users: i64, dir: &std::path::Path) -> usher::tui::app::App {
    let mut app = loaded_app(false);
    app.update(key('3'));
    let g = open(&mut app, "staff.csv");
    app.update(Action::ImportPreview {
        generation: g,
        result: Ok(review(text, users, dir)),
    });
    app
}

#[test]
fn a_large_removal_asks_for_the_count_to_be_typed() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = reviewing("email\nuser01@acme.test\nnew@acme.test\n", 9, dir.path());
    app.update(key('m'));
    app.update(key('m'));
    assert_eq!(app.import.missing, usher::service::Missing::Remove);
    app.update(key('a'));
    let Some(Modal::Confirm { prompt, typed, .. }) = &app.modal else {
        panic!("apply asks first")
    };
    assert!(prompt.contains("REMOVE 8"), "{prompt}");
    assert_eq!(typed.as_deref(), Some("8"));
    // y, Enter, a wrong count: none goes on.
    assert!(app.update(key('y')).is_empty());
    assert!(app.update(special(KeyCode::Enter)).is_empty());
    assert!(said(&app).contains("type 8"), "{}", said(&app));
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    app.update(key('7'));
    assert!(app.update(special(KeyCode::Enter)).is_empty());
    app.update(key('8'));
    let fx = app.update(special(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::ApplyImport { .. }]),
        "{fx:?}"
    );

    // Another file: the choice to remove does not follow it.
    let g = open(&mut app, "other.csv");
    assert_eq!(app.import.missing, usher::service::Missing::Keep);
    app.update(Action::ImportPreview {
        generation: g,
        result: Ok(review("email\nuser01@acme.test\n", 9, dir.path())),
    });
    assert_eq!(app.import.missing, usher::service::Missing::Keep);
}

#[test]
fn marks_stay_through_a_refusal_and_go_with_success() {
    let mut app = loaded_app(false);
    app.update(key('2'));
    app.update(key(' '));
    app.update(key(' '));
    assert_eq!(app.users.marked.len(), 2);
    app.update(key('z'));
    let Some(Modal::Confirm { prompt, .. }) = &app.modal else {
        panic!("a bulk suspension asks first")
    };
    assert!(
        prompt.contains("Suspend 2 users (user01@acme.test, user02@acme.test)"),
        "{prompt}"
    );
    app.update(key('n'));
    assert_eq!(app.users.marked.len(), 2, "no keeps the marks");
    app.update(key('z'));
    let fx = app.update(key('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Suspend(ids)] if ids == &vec![1, 2]),
        "{fx:?}"
    );
    app.update(Action::Done(Err(Failure::new(
        Kind::Refused,
        "the last Administrator cannot be suspended",
    ))));
    assert_eq!(app.users.marked.len(), 2, "a refusal keeps the marks");
    app.update(key('z'));
    app.update(key('y'));
    app.update(Action::Done(Ok("Suspended 2 users".into())));
    assert!(app.users.marked.is_empty());
    // * marks every row shown, and again none.
    app.update(key('*'));
    assert_eq!(app.users.marked.len(), app.users.rows.len());
    app.update(key('*'));
    assert!(app.users.marked.is_empty());
}

#[test]
fn bulk_changes_leave_out_who_they_would_not_change() {
    let mut app = loaded_app(false);
    app.update(key('2'));
    // user05 is suspended (every fifth is): reactivating 4..6 touches only it.
    for _ in 0..3 {
        app.update(key('j'));
    }
    for _ in 0..3 {
        app.update(key(' '));
    }
    app.update(key('a'));
    let Some(Modal::Confirm { prompt, effect, .. }) = &app.modal else {
        panic!("asks first")
    };
    assert!(
        matches!(effect, Effect::Reactivate(ids) if ids == &vec![5]),
        "{effect:?}"
    );
    assert!(
        prompt.contains("2 already active are left as they are"),
        "{prompt}"
    );
}

#[test]
fn every_key_gets_an_answer() {
    let mut app = loaded_app(false);
    app.update(key('w'));
    assert!(
        said(&app).contains("no key w here; ? shows the keys"),
        "{}",
        said(&app)
    );
    app.update(key('y'));
    assert!(
        said(&app).contains("copied ann@acme.test"),
        "{}",
        said(&app)
    );
    app.update(key('2'));
    app.update(key('/'));
    app.update(key('u'));
    let g = match app.update(key('s')).as_slice() {
        [Effect::LoadUsers { generation, .. }] => *generation,
        other => panic!("{other:?}"),
    };
    app.update(Action::Users {
        generation: g,
        page: UserPage::First,
        result: Ok((1..=3)
            .map(|i| user(i, &format!("us{i}@acme.test")))
            .collect()),
    });
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("3 match"), "a search says how many match:\n{s}");
    assert!(matches!(app.input, Some(Input::Search(_))));
}

#[test]
fn hints_never_read_as_values_without_colour() {
    let mut app = loaded_app(false);
    app.update(key('n'));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view::draw(f, &mut app, &Theme::plain()))
        .unwrap();
    let buf = t.backend().buffer();
    let row = (0..24)
        .find(|&y| {
            (0..80)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("To:")
        })
        .unwrap();
    let line: String = (0..80).map(|x| buf[(x, row)].symbol()).collect();
    let at = line
        .find("e.g.")
        .map(|i| line[..i].chars().count())
        .unwrap() as u16;
    // The focused, empty field shows the cursor on its first cell...
    assert!(
        buf[(at - 1, row)].modifier.contains(Modifier::REVERSED)
            || buf[(at, row)].modifier.contains(Modifier::REVERSED),
        "no cursor in the empty To field"
    );
    // ...and its hint is set apart from typed text even with NO_COLOR.
    let hint = &buf[(at + 2, row)];
    assert!(
        hint.modifier.contains(Modifier::ITALIC) && hint.modifier.contains(Modifier::DIM),
        "{hint:?}"
    );
}

#[test]
fn the_help_lists_every_command_from_the_table() {
    let mut app = loaded_app(false);
    app.update(key('?'));
    for _ in 0..60 {
        app.update(special(KeyCode::PageDown));
    }
    let s = screen(&mut app, 100, 60);
    for spec in usher::tui::command::SPECS {
        assert!(
            s.contains(&format!(":{}", spec.usage())),
            "{} missing:\n{s}",
            spec.name
        );
    }
}

#[test]
fn faulty_rows_are_left_out_only_on_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = reviewing(
        "email\nuser01@acme.test\nnew@acme.test\nbroken@\n",
        1,
        dir.path(),
    );
    app.update(key('a'));
    assert!(app.modal.is_none());
    assert!(said(&app).contains("e leaves them out"), "{}", said(&app));
    app.update(key('e'));
    assert!(app.import.skip_errors);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("faulty: skip (e)"), "{s}");
    app.update(key('a'));
    let Some(Modal::Confirm { prompt, .. }) = &app.modal else {
        panic!("with e, the apply asks")
    };
    assert!(
        prompt.contains("1 faulty row LEFT OUT, written to"),
        "{prompt}"
    );
    assert!(prompt.contains("staff.faulty.csv"), "{prompt}");
    let fx = app.update(key('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::ApplyImport { opts, .. }] if opts.skip_errors),
        "{fx:?}"
    );
    // Another file starts without it.
    open(&mut app, "other.csv");
    assert!(!app.import.skip_errors);
}

#[test]
fn a_search_footer_says_what_enter_and_esc_do() {
    let mut app = loaded_app(false);
    app.update(key('/'));
    let s = screen(&mut app, 80, 24);
    let footer = s.lines().last().unwrap_or_default();
    assert!(
        footer.contains("enter keep the search") && footer.contains("esc clear it"),
        "{footer}"
    );
    assert!(
        !footer.contains("tab complete"),
        "nothing completes a search: {footer}"
    );
}
