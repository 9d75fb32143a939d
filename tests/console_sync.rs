//! The console's Sync tab: each directory source with its last run and a run held for
//! approval, at 80x24; approving asks first, names the run and what it takes away, and
//! Enter means no.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/console_app.rs"]
mod console_app;

use crossterm::event::KeyCode;
use usher::config::Kind;
use usher::service::SourceStatus;
use usher::store::SyncRun;
use usher::tui::action::{Action, Effect};
use usher::tui::app::Modal;

use console_app::{NOW, key, loaded_app, screen, special};

fn run(id: i64, outcome: &str, held: Option<&str>) -> SyncRun {
    SyncRun {
        id,
        source: "corp".into(),
        started_at: NOW.0 - id * 60_000,
        finished_at: NOW.0 - id * 60_000,
        actor: "admin@acme.test".into(),
        scope: "full".into(),
        outcome: outcome.into(),
        entries: 160,
        counts: r#"{"new":2,"updated":3,"unchanged":115,"missing":40}"#.into(),
        losses: "{}".into(),
        held_reason: held.map(str::to_owned),
        digest: Some("abc".into()),
        batch_id: None,
        approves: None,
        cursor: None,
        error: None,
        undone_at: None,
    }
}

fn sources() -> Vec<SourceStatus> {
    let why = "would suspend 40 user(s) (25.0 % of 160 active), over the limit of 20 % by 8";
    vec![
        SourceStatus {
            source: "corp".into(),
            kind: Kind::Ad,
            url: "ldaps://dc1.acme.test".into(),
            interval_minutes: Some(15),
            last_run: Some(run(7, "held", Some(why))),
            last_applied: Some(run(5, "applied", None)),
            waiting: Some(run(7, "held", Some(why))),
        },
        SourceStatus {
            source: "lab\u{1b}[31m".into(),
            kind: Kind::Openldap,
            url: "ldap://127.0.0.1:3389".into(),
            interval_minutes: None,
            last_run: None,
            last_applied: None,
            waiting: None,
        },
    ]
}

#[test]
fn the_sync_tab_shows_runs_and_approving_asks_first() {
    let mut app = loaded_app(false);
    app.update(Action::Sync(Ok(sources())));
    app.update(key('6'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("6 Sync"), "{s}");
    assert!(s.contains("run 7 waits"), "{s}");
    assert!(s.contains("Held: run 7 would suspend 40 user(s)"), "{s}");
    assert!(s.contains("new 2, unchanged 115"), "{s}");
    assert!(!s.contains('\u{1b}'), "a source's name is escaped: {s}");
    insta::assert_snapshot!(s);

    // Approving names the run and what it takes away; Enter is no.
    app.update(key('A'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Approve run 7 of corp?"), "{s}");
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = app.update(special(KeyCode::Enter));
    assert!(fx.is_empty() && app.modal.is_none(), "{fx:?}");
    // y approves: the apply names the held run.
    app.update(key('A'));
    let fx = app.update(key('y'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SyncApply { name, approve: Some(7) } if name == "corp")),
        "{fx:?}"
    );
    // A source with nothing held says so rather than asking.
    app.update(key('j'));
    app.update(key('A'));
    assert!(app.modal.is_none());
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("has no run waiting for approval"), "{s}");
    // p previews: an effect, no question.
    let fx = app.update(key('p'));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::SyncPreview { .. })),
        "{fx:?}"
    );
}
