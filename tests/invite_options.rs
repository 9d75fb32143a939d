//! Seed 002's invitation options through the real binary to a real SMTP server, on both
//! backends: CC and BCC (in the envelope; BCC never in the headers), attached files within
//! the limit, the subject and message of one invitation, and the invite feature switched
//! off for the account or one operator, with the reason said.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{init, ok, received, usher, with_sink};
use common::TestDb;
use common::smtp::SmtpSink;

on_both_backends!(
    copies_and_files_travel_with_one_invitation,
    inviting_switched_off_says_why,
);

async fn copies_and_files_travel_with_one_invitation(db: &TestDb) {
    let sink = SmtpSink::start(&db.dir.path().join("sink"));
    init(db, "10");
    let file = db.dir.path().join("welcome.pdf");
    std::fs::write(&file, b"%PDF-1.4 welcome pack").unwrap();
    let out = with_sink(db, &sink)
        .args([
            "invite",
            "ann@acme.test",
            "--cc",
            "boss@acme.test",
            "--bcc",
            "audit@acme.test",
        ])
        .arg("--attach")
        .arg(&file)
        .args([
            "--subject",
            "Welcome aboard, {{ first_name }}",
            "--first",
            "Ann",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut to, raw) = received(&sink, "Welcome aboard");
    to.sort();
    assert_eq!(to, ["ann@acme.test", "audit@acme.test", "boss@acme.test"]);
    assert!(raw.contains("Cc: boss@acme.test"), "{raw}");
    assert!(
        !raw.to_lowercase().contains("bcc"),
        "BCC must not be in the headers: {raw}"
    );
    assert!(raw.contains("filename=\"welcome.pdf\""), "{raw}");
    assert!(raw.contains("application/pdf"), "{raw}");
    assert!(raw.contains("Subject: Welcome aboard, Ann"), "{raw}");

    // Over the limit (64 KiB here): refused, naming the file, nothing written.
    let big = db.dir.path().join("huge.bin");
    std::fs::write(&big, vec![0u8; 100 * 1024]).unwrap();
    let out = with_sink(db, &sink)
        .args(["invite", "bob@acme.test", "--attach"])
        .arg(&big)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("huge.bin") && err.contains("64 KiB"), "{err}");
    let list = ok(db, &["invitations", "list"]);
    assert!(!list.contains("bob@acme.test"), "{list}");

    // A disk image picked by mistake (8 GiB, sparse) is refused before it is read.
    let image = db.dir.path().join("debian.iso");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let out = with_sink(db, &sink)
        .args(["invite", "bob@acme.test", "--attach"])
        .arg(&image)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("debian.iso: 8589934592 bytes"),
        "{err}"
    );
}

async fn inviting_switched_off_says_why(db: &TestDb) {
    init(db, "10");
    ok(
        db,
        &[
            "invitations",
            "disable",
            "--operator",
            "admin@acme.test",
            "--reason",
            "audit in progress",
        ],
    );
    let out = usher(db)
        .args(["invite", "ann@acme.test"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("switched off for admin@acme.test: audit in progress"),
        "{err}"
    );
    ok(
        db,
        &["invitations", "enable", "--operator", "admin@acme.test"],
    );
    ok(db, &["invite", "ann@acme.test"]);
    ok(db, &["invitations", "disable"]);
    let out = usher(db)
        .args(["invite", "bob@acme.test"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("switched off for account 'Acme'"));
}
