//! The console without a terminal: update tests feed actions to the app and check its
//! state and effects; snapshot tests draw it on ratatui's TestBackend (insta).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use usher::domain::{DeliveryState, InvitationStatus, Timestamp, UserStatus, UserType};
use usher::service::Status;
use usher::store::{Invitation, User};
use usher::tui::action::{Action, Effect, UserPage};
use usher::tui::app::{App, Input, Modal, Tab};
use usher::tui::keymap::{Keymap, Overrides};
use usher::tui::theme::Theme;
use usher::tui::view;

const NOW: Timestamp = Timestamp(1_767_225_600_000); // 2026-01-01 00:00 UTC
const DAY: i64 = 86_400_000;

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn special(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn status(used: i64, total: i64) -> Status {
    Status {
        account: "Acme Ltd".into(),
        users: 1_204,
        pending_invitations: 3,
        licences_used: used,
        licences_total: total,
        outbox_queued: 2,
        outbox_failed: 1,
        outbox_sent: 40,
        backend: "sqlite".into(),
    }
}

fn invitation(
    id: i64,
    email: &str,
    status: InvitationStatus,
    delivery: DeliveryState,
) -> Invitation {
    Invitation {
        id,
        account_id: 1,
        email: email.to_lowercase(),
        email_display: email.into(),
        first_name: "Ann".into(),
        last_name: format!("Number{id}"),
        user_type: if id % 2 == 0 {
            UserType::Guest
        } else {
            UserType::Professional
        },
        inviter: "ops@acme.test".into(),
        status,
        created_at: NOW.0 - id * 3_600_000,
        sent_at: Some(NOW.0 - id * 3_600_000),
        expires_at: NOW.0 + 9 * DAY + id * 3_600_000,
        accepted_at: None,
        declined_at: None,
        revoked_at: None,
        resend_count: 0,
        outbox_id: Some(id),
        delivery: Some(delivery),
        last_error: (delivery == DeliveryState::Failed)
            .then(|| "550 5.1.1 mailbox unavailable".to_owned()),
    }
}

fn user(id: i64, email: &str) -> User {
    User {
        id,
        account_id: 1,
        email: email.into(),
        email_display: email.into(),
        first_name: "Zoë".into(),
        last_name: format!("User{id}"),
        display_name: format!("Zoë User{id}"),
        unique_ref: (id % 3 == 0).then(|| format!("S-1-5-21-{id}")),
        user_type: if id % 2 == 0 {
            UserType::Guest
        } else {
            UserType::Professional
        },
        status: if id % 5 == 0 {
            UserStatus::Suspended
        } else {
            UserStatus::Active
        },
        created_at: NOW.0,
        updated_at: NOW.0,
    }
}

/// An app that has received its first answers, the way it looks a moment after start.
fn loaded_app(read_only: bool) -> App {
    let mut app = App::new(Keymap::load(&Overrides::new(), read_only).unwrap());
    app.now = NOW;
    let fx = app.refresh();
    assert!(matches!(fx[0], Effect::LoadStatus));
    let inv_gen = match &fx[1] {
        Effect::LoadInvitations { generation, .. } => *generation,
        other => panic!("{other:?}"),
    };
    let user_gen = match &fx[2] {
        Effect::LoadUsers {
            generation,
            page: UserPage::First,
            ..
        } => *generation,
        other => panic!("{other:?}"),
    };
    app.update(Action::Status(Ok(status(80, 100))));
    app.update(Action::ImportHistory(Ok(Vec::new())));
    let roles_gen = fx
        .iter()
        .find_map(|e| match e {
            Effect::LoadRoles { generation } => Some(*generation),
            _ => None,
        })
        .unwrap();
    app.update(Action::Roles {
        generation: roles_gen,
        result: Ok(Vec::new()),
    });
    app.update(Action::Domains(Ok((Vec::new(), Vec::new()))));
    app.update(Action::Operator(Ok(usher::service::Operator {
        user_id: None,
        name: "os:test".into(),
        permissions: usher::domain::Permission::ALL.iter().copied().collect(),
        invite_off: None,
    })));
    app.update(Action::Invitations {
        generation: inv_gen,
        result: Ok(vec![
            invitation(
                1,
                "ann@acme.test",
                InvitationStatus::Pending,
                DeliveryState::Sent,
            ),
            invitation(
                2,
                "Bob.Smith@Acme.test",
                InvitationStatus::Pending,
                DeliveryState::Queued,
            ),
            invitation(
                3,
                "reject@acme.test",
                InvitationStatus::Pending,
                DeliveryState::Failed,
            ),
            invitation(
                4,
                "old@acme.test",
                InvitationStatus::Expired,
                DeliveryState::Sent,
            ),
        ]),
    });
    app.update(Action::Users {
        generation: user_gen,
        page: UserPage::First,
        result: Ok((1..=8)
            .map(|i| user(i, &format!("user{i:02}@acme.test")))
            .collect()),
    });
    assert_eq!(app.in_flight, 0);
    app
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app, &Theme::plain())).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

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
    let fx = app.update(key('r'));
    assert!(
        matches!(fx.as_slice(), [Effect::Resend(ids)] if ids == &vec![1, 2]),
        "{fx:?}"
    );
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
    assert!(matches!(&app.input, Some(Input::Command(c)) if c.text == "resend expired"));
    let fx = app.update(special(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::ResendExpired]));
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
    app.update(Action::Status(Err(
        "database error: connection refused".into()
    )));
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
    assert!(matches!(app.modal, Some(Modal::Invitation(_))));
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

// ---- the Import tab ----

fn review_of(text: &str, dir: &std::path::Path) -> usher::tui::tabs::import::Review {
    review_mapped(text, dir, &[])
}

fn review_mapped(
    text: &str,
    dir: &std::path::Path,
    mapping: &[(usher::import::Field, String)],
) -> usher::tui::tabs::import::Review {
    let path = dir.join("staff.csv");
    std::fs::write(&path, text).unwrap();
    let parsed = usher::import::parse_file(&path, &Default::default(), mapping).unwrap();
    let state = usher::import::plan::AccountState {
        users: vec![
            (&user(1, "user01@acme.test")).into(),
            (&user(2, "user02@acme.test")).into(),
        ],
        pending: vec![],
        domains: vec!["acme.test".into()],
        seats: Some(usher::domain::licence::Seats { used: 1, total: 10 }),
        held: Default::default(),
    };
    let plan = usher::import::plan::plan(std::sync::Arc::new(parsed), state);
    usher::tui::tabs::import::Review {
        path: path.display().to_string(),
        sha256: usher::domain::token::hash_file(&path).unwrap(),
        parsed: plan.parsed().clone(),
        plan: std::sync::Arc::new(plan),
    }
}

#[test]
fn import_tab_opens_previews_decides_and_applies() {
    use usher::import::plan::Bucket;
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(false);
    app.update(key('3'));
    assert_eq!(app.tab, Tab::Import);
    app.update(key('o'));
    assert!(matches!(app.input, Some(Input::Path(_))));
    for c in "staff.csv".chars() {
        app.update(key(c));
    }
    let fx = app.update(special(KeyCode::Enter));
    let [
        Effect::PreviewImport {
            generation, path, ..
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(path, "staff.csv");
    let review = review_of(
        "email,first name,last name\nuser01@acme.test,Zoë,User1\nnew@acme.test,New,Person\nbad@,Bad,Row\n",
        dir.path(),
    );
    let digest = review.plan.digest.clone();
    app.update(Action::ImportPreview {
        generation: *generation,
        result: Ok(review),
    });
    let plan = app.import.review.as_ref().unwrap().plan.clone();
    assert_eq!(
        (
            plan.counts[&Bucket::New],
            plan.counts[&Bucket::Unchanged],
            plan.counts[&Bucket::Missing],
            plan.counts[&Bucket::Error]
        ),
        (1, 1, 1, 1)
    );
    // Skip the new users, suspend the missing, then apply after a confirmation.
    app.update(key(' '));
    assert!(app.import.skip.contains(&Bucket::New));
    app.update(key('m'));
    app.update(key('a'));
    let Some(Modal::Confirm { prompt, .. }) = &app.modal else {
        panic!("apply asks first")
    };
    assert!(
        prompt.contains("Invite 0") && prompt.contains("suspend 1"),
        "{prompt}"
    );
    let fx = app.update(key('y'));
    let [Effect::ApplyImport { opts, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(opts.skip, vec![Bucket::New]);
    assert_eq!(opts.missing, usher::service::Missing::Suspend);
    assert_eq!(opts.expect_digest.as_deref(), Some(digest.as_str()));
    app.update(Action::Done(Ok("Import 1 applied".into())));
    assert!(app.import.review.is_none());
    assert_eq!(app.import.summary.as_deref(), Some("Import 1 applied"));
}

#[test]
fn import_tab_maps_columns_leaves_single_rows_out_and_shows_progress() {
    use usher::import::plan::Bucket;
    use usher::import::{Field, Stage};
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(false);
    app.update(key('3'));
    app.update(key('c'));
    assert!(app.input.is_none(), "nothing to map before a file is open");
    app.update(key('o'));
    for c in "odd.csv".chars() {
        app.update(key(c));
    }
    let fx = app.update(special(KeyCode::Enter));
    let [Effect::PreviewImport { generation, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    // The file's columns are not recognised: the refusal points at the mapping step.
    app.update(Action::ImportPreview {
        generation: *generation,
        result: Err(
            "odd.csv: no column holds e-mail addresses; the columns are 'Mail', 'Given'".into(),
        ),
    });
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("c maps the columns")),
        "{:?}",
        app.message
    );
    app.update(key('c'));
    assert_eq!(app.input, Some(Input::Mapping("email=".into())));
    for c in "Mail,first_name=Given".chars() {
        app.update(key(c));
    }
    let fx = app.update(special(KeyCode::Enter));
    let [
        Effect::PreviewImport {
            generation,
            path,
            mapping,
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(path, "odd.csv", "the same file, read again");
    assert_eq!(
        mapping,
        &vec![
            (Field::Email, "Mail".to_owned()),
            (Field::FirstName, "Given".to_owned())
        ]
    );
    let review = review_mapped(
        "Mail,Given\nann@acme.test,Ann\nbob@acme.test,Bob\n",
        dir.path(),
        mapping,
    );
    app.update(Action::ImportPreview {
        generation: *generation,
        result: Ok(review),
    });
    assert_eq!(
        app.import.review.as_ref().unwrap().plan.counts[&Bucket::New],
        2
    );
    // The mapping step shows the mapping in force.
    app.update(key('c'));
    assert_eq!(
        app.input,
        Some(Input::Mapping("email=Mail,first_name=Given".into()))
    );
    app.update(special(KeyCode::Esc));
    // Browse the new users and leave the first one (row 2) out.
    app.update(special(KeyCode::Enter));
    app.update(key(' '));
    assert!(app.import.excluded_rows.contains(&2));
    assert!(screen(&mut app, 120, 24).contains("out"));
    // And a missing user, by address.
    app.update(special(KeyCode::Esc));
    for _ in 0..4 {
        app.update(key('j'));
    }
    app.update(special(KeyCode::Enter));
    app.update(key(' '));
    assert_eq!(app.import.excluded_emails.len(), 1);
    app.update(key('a'));
    let Some(Modal::Confirm { prompt, .. }) = &app.modal else {
        panic!("apply asks first")
    };
    assert!(prompt.contains("2 row(s) left out"), "{prompt}");
    let fx = app.update(key('y'));
    let [Effect::ApplyImport { opts, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(opts.exclude_rows, vec![(2, 2)]);
    assert_eq!(opts.exclude_emails.len(), 1);
    // While it applies, a gauge shows how far it has got.
    app.update(Action::ImportProgress {
        stage: Stage::Applying,
        done: 1,
        total: Some(4),
    });
    let s = screen(&mut app, 120, 24);
    assert!(s.contains("1 of 4 rows") && s.contains("Applying"), "{s}");
    app.update(Action::Done(Ok("Import 1 applied".into())));
    assert!(app.import.progress.is_none());
}

#[test]
fn path_completion_follows_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["users.csv", "users.xlsx", "other.txt"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    std::fs::create_dir(dir.path().join("subdir")).unwrap();
    let base = dir.path().display().to_string();
    use usher::tui::tabs::import::complete_path;
    assert_eq!(
        complete_path(&format!("{base}/us")),
        format!("{base}/users.")
    );
    assert_eq!(
        complete_path(&format!("{base}/sub")),
        format!("{base}/subdir/")
    );
    assert_eq!(complete_path(&format!("{base}/zzz")), format!("{base}/zzz"));
}

#[test]
fn snapshot_import_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(false);
    app.update(key('3'));
    let review = review_of(
        "email,first name,last name\nuser01@acme.test,Zoë,Smith\nnew@acme.test,New,Person\nbad@,Bad,Row\n",
        dir.path(),
    );
    app.import.generation = 7;
    app.update(Action::ImportPreview {
        generation: 7,
        result: Ok(review),
    });
    app.import.review.as_mut().unwrap().path = "staff.csv".into();
    app.update(key('j'));
    app.update(key('j'));
    app.update(special(KeyCode::Enter));
    insta::assert_snapshot!(screen(&mut app, 100, 24));
}
