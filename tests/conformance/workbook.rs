//! The roles workbook (docs/rules.md#import): corporate users created directly with their
//! personal mailbox, account roles and mailbox roles, through the same preview, apply and
//! undo as every import; faults leave one user out, an address off the domains refuses it
//! all.

use std::path::Path;
use std::sync::Arc;

use rust_xlsxwriter::Workbook;
use usher::Error;
use usher::Usher;
use usher::domain::{Actor, Permission, UserStatus};
use usher::import::plan::Bucket;
use usher::service::{ApplyOptions, NewCorporateUser, RoleSpec, Target, Who};

use crate::common::{TestDb, account};

crate::on_both_backends!(
    a_workbook_creates_users_with_mailboxes_and_grants_then_undoes,
    a_user_off_the_domains_refuses_the_whole_workbook,
    the_template_lists_the_live_roles_and_reads_back_as_a_workbook,
    undo_gives_a_removed_user_back_their_grants,
    undo_after_a_role_was_deleted_restores_the_user_without_it,
    mailbox_sheets_may_say_mailbox_and_a_missing_one_says_how_to_fix_it,
);

/// A sheet named as people name it, "Mailbox sales@acme.test", grants on that mailbox;
/// one named after a mailbox the account lacks leaves its users out and says to create
/// the mailbox first.
async fn mailbox_sheets_may_say_mailbox_and_a_missing_one_says_how_to_fix_it(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    setup(&u).await;
    let path = db.dir.path().join("roles.xlsx");
    write(
        &path,
        &[
            (
                "Users",
                &[
                    &["First name", "Last name", "Email"],
                    &["Ann", "Lee", "ann@acme.test"],
                    &["Bob", "Ng", "bob@acme.test"],
                ],
            ),
            ("Account", &[&["Email", "Roles"]]),
            (
                "Mailbox sales@acme.test",
                &[&["Email", "Roles"], &["ann@acme.test", "Reader"]],
            ),
            (
                "Mailbox hr@acme.test",
                &[&["Email", "Roles"], &["bob@acme.test", "Reader"]],
            ),
        ],
    );
    let parsed = Arc::new(parse(&path));
    let plan = u.import_preview(parsed.clone()).await.unwrap();
    let faults: Vec<String> = plan
        .rows()
        .filter(|r| r.bucket == Bucket::Error)
        .filter_map(|r| r.reason)
        .collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(
        faults[0].contains("Mailbox hr@acme.test!Roles")
            && faults[0]
                .contains("the mailbox hr@acme.test is not in the account: create it first"),
        "{faults:?}"
    );
    u.import_apply(&parsed, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(
        labels(&u, "ann@acme.test").await,
        ["Reader on sales@acme.test"]
    );
}

/// An import that removes users takes their grants with them; undo restores both.
async fn undo_gives_a_removed_user_back_their_grants(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let batch = remove_ivy_with_two_grants(db, &u).await;
    let undo = u.import_undo(batch).await.unwrap();
    assert_eq!((undo.restored, undo.kept), (1, 0));
    assert_eq!(
        labels(&u, "ivy@acme.test").await,
        ["Helpdesk", "Reader on sales@acme.test"]
    );
    let ivy = u.users("ivy@acme.test", "", 1).await.unwrap()[0].id;
    let profile = u.store().read().await.unwrap().user_profile(ivy).await;
    assert_eq!(
        profile.unwrap(),
        Some(("Europe/London".into(), "+44 20 7946 0000".into())),
        "her profile is back too"
    );
}

/// A role deleted after the import does not stop its undo: the user comes back with the
/// grants that can still be given, and the one that cannot is counted as kept.
async fn undo_after_a_role_was_deleted_restores_the_user_without_it(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    let batch = remove_ivy_with_two_grants(db, &u).await;
    u.delete_role("Helpdesk", false).await.unwrap();
    let undo = u.import_undo(batch).await.unwrap();
    assert_eq!((undo.restored, undo.kept), (1, 1));
    assert_eq!(
        labels(&u, "ivy@acme.test").await,
        ["Reader on sales@acme.test"]
    );
}

/// Ivy, with a profile and holding Helpdesk and Reader on sales@, removed as missing
/// from a file; the batch.
async fn remove_ivy_with_two_grants(db: &TestDb, u: &Usher) -> i64 {
    setup(u).await;
    let ivy = u.users("ivy@acme.test", "", 1).await.unwrap()[0].id;
    let mut tx = u.store().write().await.unwrap();
    tx.set_user_profile(ivy, "Europe/London", "+44 20 7946 0000")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    u.grant(&who("ivy@acme.test"), "Helpdesk", None)
        .await
        .unwrap();
    u.grant(&who("ivy@acme.test"), "Reader", Some("sales@acme.test"))
        .await
        .unwrap();
    let path = db.dir.path().join("only-admin.csv");
    std::fs::write(&path, "email\nadmin@acme.test\n").unwrap();
    let out = u
        .import_apply(
            &parse(&path),
            &ApplyOptions {
                missing: usher::service::Missing::Remove,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.removed, 1);
    out.batch_id
}

type Sheet<'a> = (&'a str, &'a [&'a [&'a str]]);

fn write(path: &Path, sheets: &[Sheet]) {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

fn parse(path: &Path) -> usher::import::Parsed {
    usher::import::parse_file(path, &Default::default(), &[]).unwrap()
}

async fn setup(u: &Usher) {
    u.create_shared_mailbox("sales@acme.test", "Sales")
        .await
        .unwrap();
    u.create_role(
        usher::domain::Scope::Account,
        &RoleSpec {
            name: "Helpdesk".into(),
            description: String::new(),
            permissions: vec!["users.invite".into()],
        },
    )
    .await
    .unwrap();
    u.create_user(&NewCorporateUser {
        email: "ivy@acme.test".into(),
        first_name: "Ivy".into(),
        last_name: "Ng".into(),
        user_type: usher::domain::UserType::Professional,
        personal_mailbox: false,
        timezone: String::new(),
        phone: String::new(),
    })
    .await
    .unwrap();
}

fn who(email: &str) -> Who {
    Who::User(Target::Email(email.into()))
}

async fn labels(u: &Usher, email: &str) -> Vec<String> {
    let (grants, _) = u.grants(&who(email)).await.unwrap();
    grants.iter().map(|g| g.label()).collect()
}

async fn a_workbook_creates_users_with_mailboxes_and_grants_then_undoes(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    setup(&u).await;
    let path = db.dir.path().join("people.xlsx");
    write(
        &path,
        &[
            ("Roles", &[&["Role"], &["Administrator"]]),
            (
                "Users",
                &[
                    &["First name", "Last name", "Email", "Personal mailbox (Y/N)"],
                    &["Ann", "Lee", "ann@acme.test", "Y"],
                    &["Bob", "Ray", "bob@acme.test", "N"],
                    &["Ivy", "Ng", "ivy@acme.test", ""],
                    &["Carl", "Dunn", "carl@acme.test", ""],
                    &["Bad", "Address", "not-an-address", ""],
                ],
            ),
            (
                "Account",
                &[
                    &["Email", "Roles", "Permissions"],
                    &["ann@acme.test", "Helpdesk", "reports.view"],
                    &["bob@acme.test", "Professional", ""],
                    &["ivy@acme.test", "Helpdesk", ""],
                    &["carl@acme.test", "Nope", ""],
                    &["bad@@acme", "Professional", ""],
                ],
            ),
            (
                "sales@acme.test",
                &[
                    &["Email", "Roles", "Permissions"],
                    &["ann@acme.test", "Editor", ""],
                    &["bob@acme.test", "Reader", "mailbox.send"],
                ],
            ),
        ],
    );
    let parsed = parse(&path);
    assert!(parsed.workbook.is_some());
    let plan = u.import_preview(Arc::new(parsed)).await.unwrap();
    let count = |b: Bucket| plan.counts.get(&b).copied().unwrap_or(0);
    assert_eq!(count(Bucket::New), 2, "ann and bob");
    assert_eq!(count(Bucket::Updated), 1, "ivy gains Helpdesk");
    assert_eq!(
        count(Bucket::Error),
        3,
        "the bad address twice, and carl's role"
    );
    assert_eq!(
        count(Bucket::Missing),
        0,
        "a workbook never touches the unlisted"
    );
    let rows: Vec<_> = plan.rows().collect();
    let ann = rows.iter().find(|r| r.email == "ann@acme.test").unwrap();
    assert_eq!(
        ann.changes,
        [
            "+ personal mailbox",
            "+ Helpdesk",
            "+ reports.view",
            "+ Editor on sales@acme.test"
        ]
    );
    let ivy = rows.iter().find(|r| r.email == "ivy@acme.test").unwrap();
    assert_eq!(ivy.changes, ["+ Helpdesk"]);
    let reasons: Vec<String> = rows.iter().filter_map(|r| r.reason.clone()).collect();
    let carl = reasons
        .iter()
        .find(|r| r.contains("carl@acme.test"))
        .unwrap();
    assert!(
        carl.contains("Account!Roles") && carl.contains("Nope") && carl.contains("left out"),
        "{carl}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("Account!Email")),
        "{reasons:?}"
    );

    // Apply what was previewed: the faults are left out, the rest goes in.
    let out = u
        .import_apply(
            plan.parsed(),
            &ApplyOptions {
                expect_digest: Some(plan.digest.clone()),
                file_name: "people.xlsx".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((out.created, out.updated, out.invited), (2, 1, 0));
    let ann = u
        .user_detail(&Target::Email("ann@acme.test".into()))
        .await
        .unwrap();
    assert_eq!(ann.user.status, UserStatus::Active);
    assert_eq!(
        labels(&u, "ann@acme.test").await,
        [
            "Helpdesk",
            "reports.view",
            "Owner on ann@acme.test",
            "Editor on sales@acme.test"
        ]
    );
    let (_, bob) = u.grants(&who("bob@acme.test")).await.unwrap();
    assert!(bob.contains(&Permission::MailboxSend) && bob.contains(&Permission::SendMessages));
    assert_eq!(labels(&u, "ivy@acme.test").await, ["Helpdesk"]);
    assert!(
        u.user_detail(&Target::Email("carl@acme.test".into()))
            .await
            .is_err()
    );
    let boxes: Vec<String> = u
        .mailboxes()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.address)
        .collect();
    assert!(boxes.contains(&"ann@acme.test".to_owned()), "{boxes:?}");

    // Undo takes it all back: the users, the mailbox, and Ivy's new role.
    u.import_undo(out.batch_id).await.unwrap();
    assert!(
        u.user_detail(&Target::Email("ann@acme.test".into()))
            .await
            .is_err()
    );
    assert_eq!(u.mailboxes().await.unwrap().len(), 1, "only sales is left");
    assert!(labels(&u, "ivy@acme.test").await.is_empty());
}

async fn a_user_off_the_domains_refuses_the_whole_workbook(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    setup(&u).await;
    let path = db.dir.path().join("people.xlsx");
    write(
        &path,
        &[
            (
                "Users",
                &[
                    &["First name", "Last name", "Email"],
                    &["Ann", "Lee", "ann@acme.test"],
                    &["Dave", "Out", "dave@elsewhere.test"],
                ],
            ),
            (
                "Account",
                &[&["Email", "Roles"], &["ann@acme.test", "Professional"]],
            ),
        ],
    );
    let parsed = Arc::new(parse(&path));
    let plan = u.import_preview(parsed.clone()).await.unwrap();
    assert_eq!(plan.counts[&Bucket::OutsideDomains], 1);
    let opts = ApplyOptions {
        include_outside: true,
        ..Default::default()
    };
    match u.import_apply(&parsed, &opts).await {
        Err(Error::Forbidden(m)) => assert!(
            m.contains("refused whole") && m.contains("dave@elsewhere.test (Users row 3)"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        u.user_detail(&Target::Email("ann@acme.test".into()))
            .await
            .is_err(),
        "nothing was applied"
    );

    // An operator who may import but not create users directly is refused too.
    write(
        &path,
        &[
            ("Users", &[&["Email"], &["ann@acme.test"]]),
            ("Account", &[&["Email", "Roles"]]),
        ],
    );
    u.grant(&who("ivy@acme.test"), "users.import", None)
        .await
        .unwrap();
    let ivy = u.with_actor(Actor::new("ivy@acme.test"));
    match ivy.import_apply(&parse(&path), &Default::default()).await {
        Err(Error::Forbidden(m)) => assert!(m.contains("users.create"), "{m}"),
        other => panic!("{other:?}"),
    }
}

async fn the_template_lists_the_live_roles_and_reads_back_as_a_workbook(db: &TestDb) {
    let (u, _clock) = account(db, 10).await;
    setup(&u).await;
    let roles: Vec<usher::import::template::RoleLine> = u
        .roles()
        .await
        .unwrap()
        .into_iter()
        .map(Into::into)
        .collect();
    let long = "a-very-long-shared-mailbox-name@acme.test".to_owned();
    let path = db.dir.path().join("template.xlsx");
    usher::import::template::write_roles_xlsx(
        &path,
        &roles,
        &["sales@acme.test".to_owned(), long.clone()],
        "acme.test",
    )
    .unwrap();
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Roles",
            "Permissions",
            "Users",
            "Account",
            "sales@acme.test",
            "Mailbox 2"
        ]
    );
    let roles_sheet = book.worksheet_range("Roles").unwrap();
    let names: Vec<String> = roles_sheet.rows().map(|r| r[0].to_string()).collect();
    assert!(names.contains(&"Helpdesk".to_owned()), "{names:?}");
    // Its example row reads back: a new user with a personal mailbox and one role on
    // each mailbox, the long one named by its Mailbox column.
    let parsed = parse(&path);
    assert_eq!(parsed.rows.len(), 1);
    let book = parsed.workbook.as_ref().unwrap();
    let wanted: Vec<String> = book.of(2).iter().map(|w| w.label()).collect();
    assert_eq!(
        wanted,
        [
            "Professional".to_owned(),
            "Reader on sales@acme.test".to_owned(),
            format!("Reader on {long}")
        ]
    );
}
