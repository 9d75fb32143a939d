//! Mail templates per account and the invite switches (issue 7), on both backends: a
//! saved template is checked, used (with its HTML part) and reset; a queued draft keeps
//! the version it was queued with; inviting is off for the account or for one operator,
//! with the reason.

use usher::Error;
use usher::domain::UserType;
use usher::mail::TemplateName;
use usher::service::ApplyOptions;

use crate::common::{TestDb, account, invite_req, sender_from_toml};
use crate::raw_messages;

crate::on_both_backends!(
    a_saved_template_is_checked_used_and_reset,
    a_queued_draft_keeps_the_template_it_was_queued_with,
    inviting_is_switched_off_for_the_account_or_one_operator,
);

const BODY: &str = "Hi {{ first_name }}, join {{ org }}: {{ link }} (until {{ expires }})";

async fn a_saved_template_is_checked_used_and_reset(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    // Refused, with the reason, and nothing saved.
    let e = u
        .save_template(TemplateName::Invitation, "Join {{ orgg }}", BODY, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variable orgg"), "{e}");
    let e = u
        .save_template(TemplateName::Invitation, "Join", "No link here", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("{{ link }}"), "{e}");
    let long = "x".repeat(257);
    assert!(
        u.save_template(TemplateName::Invitation, &long, BODY, None)
            .await
            .is_err()
    );
    let e = u
        .save_template(
            TemplateName::Invitation,
            "Join",
            BODY,
            Some("<p>no link</p>"),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTML part"), "{e}");
    assert!(u.templates().await.unwrap().iter().all(|t| !t.customised));

    let html = "<p>Hello {{ first_name }}, <a href=\"{{ link }}\">join {{ org }}</a></p>";
    u.save_template(
        TemplateName::Invitation,
        "{{ org }} wants you, {{ first_name }}",
        BODY,
        Some(html),
    )
    .await
    .unwrap();
    let mut req = invite_req("ann@acme.test", UserType::Guest);
    req.first_name = "<b>Ann</b>".into();
    u.invite(&req).await.unwrap();
    let raw = String::from_utf8_lossy(&raw_messages(u.store()).await[0].2)
        .replace("=\r\n", "")
        .replace("=3D", "=");
    assert!(raw.contains("Subject: Acme wants you, <b>Ann</b>"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/html"), "{raw}");
    assert!(
        raw.contains("Hello &lt;b&gt;Ann&lt;&#x2f;b&gt;") || raw.contains("Hello &lt;b&gt;Ann"),
        "values are escaped in HTML: {raw}"
    );

    // The notice to the inviter is a template too.
    u.save_template(
        TemplateName::Declined,
        "No from {{ invitee }}",
        "{{ invitee }} said no to {{ org }}.",
        None,
    )
    .await
    .unwrap();
    let token = crate::token_in(&raw_messages(u.store()).await[0].2);
    u.decline_invitation(&token).await.unwrap();
    let note = u
        .outbox(10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "notification")
        .unwrap();
    assert!(note.subject.starts_with("No from"), "{}", note.subject);

    u.reset_template(TemplateName::Invitation).await.unwrap();
    let t = u.templates().await.unwrap();
    let inv = t.iter().find(|t| t.name == "invitation").unwrap();
    assert!(!inv.customised && inv.html.is_none());
    u.invite(&invite_req("bob@acme.test", UserType::Guest))
        .await
        .unwrap();
    let subjects: Vec<String> = u
        .outbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with("invites you to Acme secure mail")),
        "usher's own subject again: {subjects:?}"
    );
    let audit = u.audit(20).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "template.save"));
    assert!(audit.iter().any(|a| a.action == "template.reset"));
}

async fn a_queued_draft_keeps_the_template_it_was_queued_with(db: &TestDb) {
    let (u, clock) = account(db, 10).await;
    u.save_template(TemplateName::Invitation, "First version", BODY, None)
        .await
        .unwrap();
    let f = db.dir.path().join("people.csv");
    std::fs::write(
        &f,
        "email,first name\ncat@acme.test,Cat\ndan@acme.test,Dan\n",
    )
    .unwrap();
    let parsed = usher::import::parse_file(&f, &Default::default(), &[]).unwrap();
    u.import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    // Edited while the import's mail waits in the outbox.
    u.save_template(TemplateName::Invitation, "Second version", BODY, None)
        .await
        .unwrap();
    let spool = db.dir.path().join("spool");
    let toml = format!(
        "[mail]\ntransport = \"spool\"\nspool_dir = \"{}\"\n",
        spool.display()
    );
    let r = sender_from_toml(&u, &clock, &toml, vec![])
        .flush()
        .await
        .unwrap();
    assert_eq!(r.sent, 2);
    for e in std::fs::read_dir(&spool).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        assert!(text.contains("Subject: First version"), "{text}");
        assert!(text.contains("Hi Cat") || text.contains("Hi Dan"), "{text}");
    }
}

async fn inviting_is_switched_off_for_the_account_or_one_operator(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    u.set_invite_block("Admin@acme.test", Some("on leave until March; ask Bob"))
        .await
        .unwrap();
    match u
        .invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
    {
        Err(e @ Error::InviteBlocked { .. }) => {
            assert!(e.to_string().contains("on leave until March"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let op = u.operator().await.unwrap();
    assert!(op.invite_off.unwrap().contains("ask Bob"));
    u.set_invite_block("admin@acme.test", None).await.unwrap();
    u.invite(&invite_req("ann@acme.test", UserType::Guest))
        .await
        .unwrap();
    u.set_invitations_enabled(false).await.unwrap();
    assert!(matches!(
        u.invite(&invite_req("bob@acme.test", UserType::Guest))
            .await,
        Err(Error::InvitationsDisabled(_))
    ));
    assert!(u.operator().await.unwrap().invite_off.is_some());
    u.set_invitations_enabled(true).await.unwrap();
    assert_eq!(u.invite_unavailable().await.unwrap(), None);
}
