//! The console without a terminal: update tests feed actions to the app and check its
//! state and effects; snapshot tests draw it on ratatui's TestBackend (insta). The Import
//! tab's are in console_import.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/console_app.rs"]
mod console_app;

use crossterm::event::KeyCode;
use usher::Kind;
use usher::domain::{DeliveryState, InvitationStatus, UserType};
use usher::store::User;
use usher::tui::action::{Action, Effect, UserPage};
use usher::tui::app::{Input, Modal, Tab};
use usher::tui::failure::Failure;

use console_app::*;

// ---- update tests ----

#[test]
fn keys_move_mark_and_act_on_marked_rows() {
    let mut app = loaded_app(false);
    assert_eq!(
        app.invitations.current().map(|i| i.id),
        Some(1),
        "newest first"
    );
    app.update(key(' '));
    app.update(key(' '));
    assert_eq!(app.invitations.marked.len(), 2);
    assert!(app.update(key('r')).is_empty(), "a bulk resend asks first");
    assert_eq!(app.invitations.marked.len(), 2, "marks stay while asked");
    let fx = app.update(key('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Resend(ids)] if ids == &vec![1, 2]),
        "{fx:?}"
    );
    assert_eq!(app.invitations.marked.len(), 2, "kept until it succeeds");
    app.update(Action::Done(Ok("Resent 2 invitations".into())));
    assert!(app.invitations.marked.is_empty());
    app.update(key('G'));
    assert_eq!(app.invitations.current().map(|i| i.id), Some(4));
    app.update(key('g'));
    assert_eq!(app.invitations.cursor.index, 0);
    app.update(special(KeyCode::Down));
    assert_eq!(app.invitations.cursor.index, 1);
}

#[test]
fn dangerous_actions_ask_first_and_read_only_removes_them() {
    let mut app = loaded_app(false);
    assert!(app.update(key('x')).is_empty());
    let Some(Modal::Confirm { prompt, .. }) = &app.modal else {
        panic!("revoke asks first")
    };
    assert!(prompt.contains("ann@acme.test"), "{prompt}");
    let fx = app.update(key('y'));
    assert!(matches!(fx.as_slice(), [Effect::Revoke(ids)] if ids == &vec![1]));
    assert!(app.modal.is_none());
    app.update(key('x'));
    assert!(app.update(key('n')).is_empty(), "no runs nothing");
    assert!(app.modal.is_none());

    let mut ro = loaded_app(true);
    for c in ['x', 'r', 'n', 'R'] {
        assert!(ro.update(key(c)).is_empty());
        assert!(ro.modal.is_none(), "{c} does nothing in read-only mode");
    }
    ro.update(key(':'));
    for c in "invite a@acme.test".chars() {
        ro.update(key(c));
    }
    ro.update(special(KeyCode::Enter));
    assert!(ro.modal.is_none());
    assert!(
        ro.message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("read-only"))
    );
}

#[test]
fn search_as_you_type_drops_stale_answers() {
    let mut app = loaded_app(false);
    app.update(key('2'));
    assert_eq!(app.tab, Tab::Users);
    app.update(key('/'));
    let first = app.update(key('u'));
    let second = app.update(key('s'));
    let generation_of = |fx: &[Effect]| match fx {
        [
            Effect::LoadUsers {
                generation, search, ..
            },
        ] => (*generation, search.clone()),
        other => panic!("{other:?}"),
    };
    let (g1, s1) = generation_of(&first);
    let (g2, s2) = generation_of(&second);
    assert_eq!((s1.as_str(), s2.as_str()), ("u", "us"));
    // The answer to "us" arrives first, then the late answer to "u": the late one is dropped.
    app.update(Action::Users {
        generation: g2,
        page: UserPage::First,
        result: Ok(vec![user(7, "us@acme.test")]),
    });
    app.update(Action::Users {
        generation: g1,
        page: UserPage::First,
        result: Ok(vec![user(8, "u1@acme.test"), user(9, "u2@acme.test")]),
    });
    assert_eq!(
        app.users
            .rows
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>(),
        ["us@acme.test"]
    );
    app.update(special(KeyCode::Esc));
    assert!(app.input.is_none());
    assert!(app.users.search.is_empty(), "esc clears the search");
}

#[test]
fn users_window_pages_by_address_and_stays_bounded() {
    let mut app = loaded_app(false);
    app.update(key('2'));
    let page = |from: usize| -> Vec<User> {
        (from..from + 200)
            .map(|i| user(i as i64, &format!("u{i:07}@acme.test")))
            .collect()
    };
    let g = match app.update(ctrl('r')).as_slice() {
        [_, _, Effect::LoadUsers { generation, .. }, ..] => *generation,
        other => panic!("{other:?}"),
    };
    app.update(Action::Users {
        generation: g,
        page: UserPage::First,
        result: Ok(page(0)),
    });
    let mut loaded = 200;
    // Scrolling down asks for the next page near the end, with the last address as the key.
    for _ in 0..20 {
        let mut asked = None;
        for _ in 0..400 {
            let fx = app.update(key('j'));
            if let [
                Effect::LoadUsers {
                    generation,
                    page: UserPage::After(after),
                    ..
                },
            ] = fx.as_slice()
            {
                asked = Some((*generation, after.clone()));
                break;
            }
        }
        let (g, after) = asked.expect("next page requested");
        assert_eq!(after, format!("u{:07}@acme.test", loaded - 1));
        app.update(Action::Users {
            generation: g,
            page: UserPage::After(after),
            result: Ok(page(loaded)),
        });
        loaded += 200;
        assert!(app.users.rows.len() <= usher::tui::tabs::users::MAX_ROWS);
    }
    let current = app.users.current().unwrap().email.clone();
    assert!(current.as_str() > "u0003000@acme.test", "{current}");
    // G asks for the last page instead of walking there.
    let fx = app.update(key('G'));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::LoadUsers {
                page: UserPage::Last,
                ..
            }]
        ),
        "{fx:?}"
    );
}

#[test]
fn invite_form_checks_licences_and_keeps_values_on_error() {
    let mut app = loaded_app(false);
    app.update(Action::Status(Ok(status(100, 100))));
    app.update(key('n'));
    let Some(Modal::Form(form)) = &app.modal else {
        panic!("form opens")
    };
    assert_eq!(
        form.user_type,
        UserType::Guest,
        "professional disabled when every licence is taken"
    );
    assert!(
        form.professional_unavailable
            .as_ref()
            .is_some_and(|w| w.contains("all 100"))
    );
    for c in "bad-address".chars() {
        app.update(key(c));
    }
    assert!(app.update(ctrl('s')).is_empty());
    let Some(Modal::Form(form)) = &app.modal else {
        panic!()
    };
    assert!(
        form.error
            .as_ref()
            .is_some_and(|e| e.contains("bad-address")),
        "{:?}",
        form.error
    );
    app.update(ctrl('u'));
    for _ in 0..11 {
        app.update(special(KeyCode::Backspace));
    }
    for c in "ann@acme.test; bob@acme.test".chars() {
        app.update(key(c));
    }
    app.update(ctrl('a'));
    let fx = app.update(ctrl('s'));
    let [Effect::Invite(req)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(req.addresses.len(), 2);
    assert_eq!(req.user_type, UserType::Guest);
    assert_eq!(
        (req.subject.as_deref(), req.message.as_deref()),
        (None, None),
        "untouched text is the template"
    );
    // Invite another: the form stays open, cleared.
    app.update(Action::Done(Ok(
        "Invited ann@acme.test, bob@acme.test".into()
    )));
    let Some(Modal::Form(form)) = &app.modal else {
        panic!("form stays open")
    };
    assert_eq!(form.to.lines().join(""), "");
    assert_eq!(form.sent, 1);
}

#[test]
fn command_line_completes_and_runs() {
    let mut app = loaded_app(false);
    app.update(key(':'));
    for c in "res".chars() {
        app.update(key(c));
    }
    app.update(special(KeyCode::Tab));
    assert!(matches!(&app.input, Some(Input::Command(c)) if c.text == "resend "));
    app.update(special(KeyCode::Tab));
    assert!(matches!(&app.input, Some(Input::Command(c)) if c.text == "resend expired"));
    let fx = app.update(special(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::AskResendExpired]),
        "the expired are counted before the question: {fx:?}"
    );
    app.update(key(':'));
    for c in "users".chars() {
        app.update(key(c));
    }
    app.update(special(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Users);
    app.update(key(':'));
    app.update(key('q'));
    app.update(special(KeyCode::Enter));
    assert!(app.quit);
}

#[test]
fn changes_by_others_are_picked_up_by_the_periodic_refresh() {
    let mut app = loaded_app(false);
    let mut fx = Vec::new();
    for _ in 0..app.refresh_every_ticks {
        fx = app.update(Action::Tick(NOW));
    }
    assert!(matches!(fx.first(), Some(Effect::LoadStatus)), "{fx:?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadInvitations { .. }))
    );
    // An error is shown and the console goes on.
    app.update(Action::Status(Err(Failure::new(
        Kind::Unavailable,
        "database error: connection refused",
    ))));
    assert!(!app.quit);
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("connection refused"))
    );
}

// ---- snapshots ----

#[test]
fn snapshot_invitations_tab_80x24() {
    let mut app = loaded_app(false);
    insta::assert_snapshot!(screen(&mut app, 80, 24));
}

#[test]
fn snapshot_invitations_tab_wide() {
    let mut app = loaded_app(false);
    app.update(key(' '));
    insta::assert_snapshot!(screen(&mut app, 140, 12));
}

#[test]
fn snapshot_users_tab_with_detail() {
    let mut app = loaded_app(false);
    app.update(key('2'));
    app.update(key('j'));
    app.update(special(KeyCode::Enter));
    app.users.detail = Some(usher::service::UserDetail {
        user: user(2, "user02@acme.test"),
        invitations: vec![invitation(
            2,
            "user02@acme.test",
            InvitationStatus::Accepted,
            DeliveryState::Sent,
        )],
        grants: Vec::new(),
        mail: Some(usher::store::MailLogin {
            may_login: false,
            reason: "no password yet".into(),
        }),
    });
    insta::assert_snapshot!(screen(&mut app, 120, 24));
}

#[test]
fn snapshot_invite_form() {
    let mut app = loaded_app(false);
    app.update(key('n'));
    for c in "dan@acme.test".chars() {
        app.update(key(c));
    }
    insta::assert_snapshot!(screen(&mut app, 80, 30));
}

#[test]
fn snapshot_help() {
    let mut app = loaded_app(false);
    app.update(key('?'));
    insta::assert_snapshot!(screen(&mut app, 80, 24));
}

#[test]
fn snapshot_confirmation() {
    let mut app = loaded_app(false);
    app.update(key('x'));
    insta::assert_snapshot!(screen(&mut app, 80, 24));
}

#[test]
fn snapshot_invitation_detail_shows_the_whole_error() {
    let mut app = loaded_app(false);
    app.update(key('j'));
    app.update(key('j'));
    app.update(special(KeyCode::Enter));
    assert!(matches!(app.modal, Some(Modal::Detail(_))));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("550 5.1.1 mailbox unavailable"), "{s}");
    insta::assert_snapshot!(s);
    app.update(special(KeyCode::Esc));
    assert!(app.modal.is_none());
}

#[test]
fn hostile_names_never_reach_the_screen_raw() {
    let mut app = loaded_app(false);
    let mut evil = invitation(
        9,
        "eve@acme.test",
        InvitationStatus::Pending,
        DeliveryState::Sent,
    );
    evil.first_name = "Eve\u{1b}[2J\u{1b}]0;pwned\u{7}".into();
    evil.last_error = Some("421 \u{1b}[31mred".into());
    let g = match app.update(ctrl('r')).as_slice() {
        [_, Effect::LoadInvitations { generation, .. }, ..] => *generation,
        other => panic!("{other:?}"),
    };
    app.update(Action::Invitations {
        generation: g,
        result: Ok(vec![evil]),
    });
    let s = screen(&mut app, 140, 10);
    assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s:?}");
    assert!(s.contains("Eve\\u{1b}[2J"), "{s}");
}
