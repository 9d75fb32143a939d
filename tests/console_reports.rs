//! Reports from the console (issue 7): `X` fills the command line, `:report` writes the
//! file through the console's own worker with a gauge, and an operator without
//! `reports.view` is told why. On both backends, against a real core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/drive.rs"]
mod drive;

use crossterm::event::KeyCode;
use usher::domain::{Actor, UserType};
use usher::service::NewCorporateUser;
use usher::tui::app::Input;

use common::{TestDb, account, invite_req};
use drive::Drive;

on_both_backends!(a_report_is_written_from_the_console,);

async fn a_report_is_written_from_the_console(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.invite(&invite_req("ann@acme.test,bob@acme.test", UserType::Guest))
        .await
        .unwrap();
    let mut d = Drive::new(u.clone()).await;

    // X on the Invitations tab fills in the command, for the operator to adjust.
    d.keys("1").await;
    d.keys("X").await;
    match &d.app.input {
        Some(Input::Command(c)) => {
            assert_eq!(c.text, "report invitations csv ~/usher-invitations.csv");
        }
        other => panic!("{other:?}"),
    }
    d.special(KeyCode::Esc).await;

    let path = db.dir.path().join("invitations.xlsx");
    d.keys(":").await;
    d.keys(&format!("report invitations xlsx {}", path.display()))
        .await;
    d.special(KeyCode::Enter).await;
    assert!(
        d.message().contains("wrote the invitations report, 2 rows"),
        "{}",
        d.message()
    );
    assert!(path.exists());
    assert_eq!(
        d.app.report, None,
        "the gauge is gone when the report is done"
    );

    // While a report runs, the status line is its gauge.
    d.app.report = Some((500, 1000));
    assert!(
        d.screen().contains("report 500 / 1,000 rows"),
        "{}",
        d.screen()
    );
    d.app.report = None;

    // Someone without reports.view: no file, and the reason.
    u.create_user(&NewCorporateUser {
        email: "ivy@acme.test".into(),
        first_name: "Ivy".into(),
        last_name: "Ng".into(),
        user_type: UserType::Professional,
        personal_mailbox: false,
        timezone: String::new(),
        phone: String::new(),
    })
    .await
    .unwrap();
    let guest = u.with_actor(Actor::new("ivy@acme.test"));
    let mut d = Drive::new(guest).await;
    let denied = db.dir.path().join("denied.csv");
    d.keys(":").await;
    d.keys(&format!("report users csv {}", denied.display()))
        .await;
    d.special(KeyCode::Enter).await;
    assert!(d.message().contains("reports.view"), "{}", d.message());
    assert!(!denied.exists());
}
