//! The console's Import tab without a terminal: opening a file, the review by bucket,
//! column mapping, leaving rows out, the progress gauge, path completion, and its snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/console_app.rs"]
mod console_app;

use crossterm::event::KeyCode;
use usher::import::ImportError;
use usher::tui::action::{Action, Effect};
use usher::tui::app::{Input, Modal, Tab};
use usher::tui::failure::Failure;

use console_app::*;

fn review_of(text: &str, dir: &std::path::Path) -> usher::tui::tabs::import::Review {
    review_mapped(text, dir, &[])
}

fn review_mapped(
    text: &str,
    dir: &std::path::Path,
    mapping: &[(usher::import::Field, String)],
) -> usher::tui::tabs::import::Review {
    review_against(text, dir, mapping, 2, 10)
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
    // A faulty row stops the apply before any question: the core would refuse it whole.
    app.update(key('a'));
    assert!(
        app.modal.is_none(),
        "nothing to confirm while a row is faulty"
    );
    let said = app
        .message
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    assert!(said.contains("1 row cannot be imported"), "{said}");
    // The file fixed and read again.
    app.update(Action::ImportPreview {
        generation: *generation,
        result: Ok(review_of(
            "email,first name,last name\nuser01@acme.test,Zoë,User1\nnew@acme.test,New,Person\n",
            dir.path(),
        )),
    });
    let digest = app.import.review.as_ref().unwrap().plan.digest.clone();
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
        result: Err(Failure::import(&ImportError::Mapping {
            file: "odd.csv".into(),
            reason: "no column holds e-mail addresses; the columns are 'Mail', 'Given'".into(),
            headers: vec!["Mail".into(), "Given".into()],
        })),
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
    assert!(prompt.contains("2 rows left out"), "{prompt}");
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
