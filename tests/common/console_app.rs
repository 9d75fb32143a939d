//! A console app loaded with known rows, keys as actions, and its screen as text: what
//! the console's update and snapshot tests share.
#![allow(dead_code)] // each test binary uses a part

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use usher::domain::{DeliveryState, InvitationStatus, Timestamp, UserStatus, UserType};
use usher::service::Status;
use usher::store::{Invitation, User};
use usher::tui::action::{Action, Effect, UserPage};
use usher::tui::app::App;
use usher::tui::keymap::{Keymap, Overrides};
use usher::tui::theme::Theme;
use usher::tui::view;

pub const NOW: Timestamp = Timestamp(1_767_225_600_000); // 2026-01-01 00:00 UTC
pub const DAY: i64 = 86_400_000;

pub fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn special(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn status(used: i64, total: i64) -> Status {
    Status {
        account: "Acme Ltd".into(),
        users: 1_204,
        pending_invitations: 3,
        licences_used: used,
        licences_total: total,
        outbox_queued: 2,
        outbox_undrafted: 0,
        outbox_failed: 1,
        outbox_sent: 40,
        backend: "sqlite".into(),
    }
}

pub fn invitation(
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
        unique_ref: None,
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

pub fn user(id: i64, email: &str) -> User {
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
pub fn loaded_app(read_only: bool) -> App {
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
    app.update(Action::Sync(Ok(Vec::new())));
    app.update(Action::Operator(Ok(usher::service::Operator {
        user_id: None,
        name: "os:test".into(),
        permissions: usher::domain::Permission::ALL.iter().copied().collect(),
        invite_off: None,
        identity: "os:test".into(),
        owner: true,
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

pub fn screen(app: &mut App, w: u16, h: u16) -> String {
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

/// A review of `text` (written to `dir/staff.csv`, read with `mapping`) against an
/// account of `users` users (user01@acme.test, ...) with 1 of `total` licences used.
pub fn review_against(
    text: &str,
    dir: &std::path::Path,
    mapping: &[(usher::import::Field, String)],
    users: i64,
    total: i64,
) -> usher::tui::tabs::import::Review {
    let path = dir.join("staff.csv");
    std::fs::write(&path, text).unwrap();
    let parsed = usher::import::parse_file(&path, &Default::default(), mapping).unwrap();
    let all: Vec<User> = (1..=users)
        .map(|i| user(i, &format!("user{i:02}@acme.test")))
        .collect();
    let state = usher::import::plan::AccountState {
        users: all.iter().map(Into::into).collect(),
        pending: vec![],
        domains: vec!["acme.test".into()],
        seats: Some(usher::domain::licence::Seats { used: 1, total }),
        held: Default::default(),
        sync: None,
    };
    let plan = usher::import::plan::plan(std::sync::Arc::new(parsed), state);
    usher::tui::tabs::import::Review {
        path: path.display().to_string(),
        sha256: usher::domain::token::hash_file(&path).unwrap(),
        parsed: plan.parsed().clone(),
        plan: std::sync::Arc::new(plan),
    }
}
