//! Files shaped as the vendors' own exports are (their column headers from the vendors'
//! documentation): Okta's user report, Microsoft Entra's "Download users", Google
//! Workspace's "Download users", mailcow's, PowerShell's Export-Csv, AD's ldifde and
//! OpenLDAP's slapcat LDIF, a spreadsheet with a title block and a LibreOffice ODS. Each
//! must read with no row lost and none invented, the vendor's columns that mean
//! something else left unread with a note; and each goes through preview, apply and
//! undo on both backends (`every_vendor_file_previews_applies_and_undoes`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/sheets.rs"]
mod sheets;

use sheets::title_block_xlsx;

use std::path::{Path, PathBuf};

use usher::domain::UserType;
use usher::import::{Parsed, ReadOptions, parse_file, parse_mapping};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read(p: &Path) -> Parsed {
    let parsed = parse_file(p, &ReadOptions::default(), &[]).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    parsed
}

fn types(p: &Parsed) -> Vec<Option<UserType>> {
    p.rows.iter().map(|r| r.user_type).collect()
}

const OKTA: &str = "\
Username,First name,Last name,Primary email,Secondary email,Status,Title,Department,userType
ann.lee@acme.test,Ann,Lee,ann.lee@acme.test,,ACTIVE,Engineer,R&D,Employee
raj.patel@acme.test,Raj,Patel,raj.patel@acme.test,raj@home.example,ACTIVE,Consultant,Sales,Contractor
mo.chen@acme.test,Mo,Chen,mo.chen@acme.test,,ACTIVE,Manager,Sales,Employee
";

#[test]
fn okta_user_types_are_not_usher_types() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(dir.path(), "okta.csv", OKTA));
    assert_eq!(p.rows.len(), 3);
    assert_eq!(
        types(&p),
        [None, None, None],
        "Employee is not professional"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("'userType' was not read as the user type")
                && n.contains("Contractor, Employee")),
        "{:?}",
        p.notes
    );
    // Read on purpose, it is refused row by row, as a named column's values are.
    let named = parse_file(
        &dir.path().join("okta.csv"),
        &ReadOptions::default(),
        &parse_mapping("user_type=userType").unwrap(),
    )
    .unwrap();
    assert_eq!(named.errors.len(), 3, "{:?}", named.errors);
    // Left out on purpose: no note, no faults.
    for quiet in [
        parse_file(
            &dir.path().join("okta.csv"),
            &ReadOptions {
                ignore: vec!["userType".into()],
                ..ReadOptions::default()
            },
            &[],
        )
        .unwrap(),
        parse_file(
            &dir.path().join("okta.csv"),
            &ReadOptions::default(),
            &parse_mapping("user_type=").unwrap(),
        )
        .unwrap(),
    ] {
        assert!(quiet.notes.is_empty() && quiet.errors.is_empty());
        assert_eq!(quiet.rows.len(), 3);
    }
}

const ENTRA: &str = "\
userPrincipalName,displayName,surname,mail,givenName,objectId,userType,jobTitle,department,accountEnabled,usageLocation
ann.lee@acme.test,Ann Lee,Lee,ann.lee@acme.test,Ann,6f1c2a9e-1111-4c7e-9a1b-000000000001,Member,Engineer,R&D,True,GB
bob_partner.example#EXT#@acme.onmicrosoft.com,Bob Ng,Ng,bob@partner.example,Bob,6f1c2a9e-1111-4c7e-9a1b-000000000002,Guest,,,True,
svc.scanner@acme.test,Scanner,,,,6f1c2a9e-1111-4c7e-9a1b-000000000003,Member,,IT,True,GB
";

#[test]
fn entra_members_guests_and_an_empty_mail() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(dir.path(), "entra.csv", ENTRA));
    let emails: Vec<&str> = p.rows.iter().map(|r| r.email()).collect();
    assert_eq!(
        emails,
        [
            "ann.lee@acme.test",
            "bob@partner.example",
            "svc.scanner@acme.test"
        ],
        "an empty mail falls back to the userPrincipalName"
    );
    assert_eq!(types(&p), [None, Some(UserType::Guest), None]);
    assert_eq!(
        p.rows[0].unique_ref(),
        Some("6f1c2a9e-1111-4c7e-9a1b-000000000001")
    );
    assert!(
        p.notes.iter().any(|n| n
            .contains("1 row(s) with an empty 'mail' took their address from 'userPrincipalName'")),
        "{:?}",
        p.notes
    );
}

const GOOGLE: &str = "\
First Name [Required],Last Name [Required],Email Address [Required],Password [Required],Password Hash Function [UPLOAD ONLY],Org Unit Path [Required],New Primary Email [UPLOAD ONLY],Recovery Email,Status [READ ONLY],Last Sign In [READ ONLY]
Ann,Lee,ann.lee@acme.test,****,,/,,ann@home.example,Active,2026/11/20 09:14:02
Bob,Ng,bob.ng@acme.test,****,,/Sales,,,Active,Never logged in
";

#[test]
fn google_masked_passwords_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(dir.path(), "google.csv", GOOGLE));
    assert_eq!(p.rows.len(), 2);
    assert!(p.rows.iter().all(|r| r.password.is_none()));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("masked passwords (****) in 2 row(s)")),
        "{:?}",
        p.notes
    );
}

#[test]
fn powershell_export_csv_with_its_type_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(
        dir.path(),
        "ad.csv",
        "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n\
         \"GivenName\",\"Surname\",\"UserPrincipalName\",\"EmailAddress\",\"ObjectGUID\",\"Enabled\"\r\n\
         \"Ann\",\"Lee\",\"alee@acme.test\",\"ann.lee@acme.test\",\"0b9c1f3e-2222-4c7e-9a1b-000000000001\",\"True\"\r\n",
    ));
    assert_eq!(p.rows[0].email(), "ann.lee@acme.test");
    assert_eq!(
        p.rows[0].unique_ref(),
        Some("0b9c1f3e-2222-4c7e-9a1b-000000000001")
    );
    assert_eq!(p.source.header_row, 2);
}

fn disabled(p: &Parsed) -> Vec<(&str, bool)> {
    p.rows.iter().map(|r| (r.email(), r.disabled)).collect()
}

/// Accounts disabled at the source, as each vendor writes it.
#[test]
fn accounts_disabled_at_the_source_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let entra = read(&write(
        dir.path(),
        "entra.csv",
        "userPrincipalName,mail,givenName,surname,accountEnabled\n\
         a@acme.test,a@acme.test,A,One,True\n\
         b@acme.test,b@acme.test,B,Two,False\n",
    ));
    assert_eq!(
        disabled(&entra),
        [("a@acme.test", false), ("b@acme.test", true)]
    );
    let google = read(&write(
        dir.path(),
        "google.csv",
        "First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY]\n\
         A,One,a@acme.test,Active\n\
         B,Two,b@acme.test,Suspended\n",
    ));
    assert_eq!(
        disabled(&google),
        [("a@acme.test", false), ("b@acme.test", true)]
    );
    let mailcow = read(&write(
        dir.path(),
        "mailcow.csv",
        "username,name,quota,active\na@acme.test,A One,1024,1\nb@acme.test,B Two,1024,0\n",
    ));
    assert_eq!(
        disabled(&mailcow),
        [("a@acme.test", false), ("b@acme.test", true)]
    );
    // AD: 512 a normal account, 514 and 66050 (also "password never expires") disabled.
    let ad = read(&write(
        dir.path(),
        "ad.csv",
        "mail,givenName,sn,userAccountControl\n\
         a@acme.test,A,One,512\nb@acme.test,B,Two,514\nc@acme.test,C,Three,66050\nd@acme.test,D,Four,66048\n",
    ));
    assert_eq!(
        disabled(&ad),
        [
            ("a@acme.test", false),
            ("b@acme.test", true),
            ("c@acme.test", true),
            ("d@acme.test", false)
        ]
    );
    // In the plan: a bucket of their own, not invited, and an existing user among them is
    // neither updated nor missing.
    use usher::import::plan::{AccountState, Bucket, Known, plan};
    let existing = Known::new(
        7,
        "b@acme.test",
        "b@acme.test",
        "B",
        "Old",
        None,
        UserType::Professional,
        usher::domain::UserStatus::Active,
    );
    let state = AccountState {
        users: vec![existing],
        pending: vec![],
        domains: vec!["acme.test".into()],
        seats: Some(usher::domain::licence::Seats { used: 1, total: 10 }),
        held: Default::default(),
        sync: None,
    };
    let planned = plan(std::sync::Arc::new(ad), state);
    let n = |b: Bucket| planned.counts.get(&b).copied().unwrap_or(0);
    assert_eq!(
        (
            n(Bucket::New),
            n(Bucket::Disabled),
            n(Bucket::Updated),
            n(Bucket::Missing)
        ),
        (2, 2, 0, 0)
    );
}

/// OpenLDAP's `slapcat`: operational attributes, a folded line, a base64 name, an OU.
const SLAPCAT: &str = "\
dn: ou=people,dc=acme,dc=test
objectClass: organizationalUnit
ou: people
structuralObjectClass: organizationalUnit
entryUUID: 0a1b2c3d-0000-1000-8000-000000000000

dn: uid=ann,ou=people,dc=acme,dc=test
objectClass: inetOrgPerson
uid: ann
cn: Ann Lee
givenName: Ann
sn: Lee
mail: ann.lee@acme.test
entryUUID: 5c1f6a64-8b8e-103f-9c4a-3b1f1d2e0a01
createTimestamp: 20261101090000Z

dn: uid=jose,ou=people,dc=acme,dc=test
objectClass: inetOrgPerson
cn:: Sm9zw6kgTXXDsW96
givenName:: Sm9zw6k=
sn:: TXXDsW96
mail: jose.munoz@acme.t
 est
entryUUID: 5c1f6a64-8b8e-103f-9c4a-3b1f1d2e0a02
";

#[test]
fn openldap_slapcat_reads_with_folding_and_base64() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(dir.path(), "people.ldif", SLAPCAT));
    assert_eq!(p.source.format, "ldif");
    let got: Vec<(&str, &str, &str, Option<&str>)> = p
        .rows
        .iter()
        .map(|r| (r.email(), r.first_name(), r.last_name(), r.unique_ref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "ann.lee@acme.test",
                "Ann",
                "Lee",
                Some("5c1f6a64-8b8e-103f-9c4a-3b1f1d2e0a01")
            ),
            (
                "jose.munoz@acme.test",
                "Jos\u{e9}",
                "Mu\u{f1}oz",
                Some("5c1f6a64-8b8e-103f-9c4a-3b1f1d2e0a02")
            ),
        ],
        "the OU is not a user"
    );
    assert_eq!(p.rows[1].row, 17, "a row is the line its entry starts on");
}

/// AD's `ldifde -f users.ldf`: binary objectGUID and objectSid in base64, a disabled
/// account, and an entry with no address.
const LDIFDE: &str = "\
dn: CN=Ann Lee,OU=Staff,DC=acme,DC=test
changetype: add
objectClass: top
objectClass: user
cn: Ann Lee
givenName: Ann
sn: Lee
userPrincipalName: ann.lee@acme.test
mail: ann.lee@acme.test
userAccountControl: 512
objectGUID:: MyIRAFVEd2aImaq7zN3u/w==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoAAIAAA==

dn: CN=Old Account,OU=Staff,DC=acme,DC=test
changetype: add
cn: Old Account
givenName: Old
sn: Account
userPrincipalName: old@acme.test
userAccountControl: 514
objectGUID:: AAECAwQFBgcICQoLDA0ODw==

dn: CN=Printer,OU=Devices,DC=acme,DC=test
changetype: delete
";

#[test]
fn active_directory_ldifde_gives_text_ids_and_the_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let p = read(&write(dir.path(), "users.ldf", LDIFDE));
    let got: Vec<(&str, Option<&str>, bool)> = p
        .rows
        .iter()
        .map(|r| (r.email(), r.unique_ref(), r.disabled))
        .collect();
    assert_eq!(
        got,
        [
            (
                "ann.lee@acme.test",
                Some("00112233-4455-6677-8899-aabbccddeeff"),
                false
            ),
            (
                "old@acme.test",
                Some("03020100-0504-0706-0809-0a0b0c0d0e0f"),
                true
            ),
        ],
        "the UPN stands in for an absent mail; the delete record is no user"
    );
}

#[test]
fn json_is_refused_by_name_with_the_formats_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "users.json",
        "[{\"primaryEmail\": \"ann@acme.test\", \"name\": {\"givenName\": \"Ann\"}}]",
    );
    let e = parse_file(&p, &ReadOptions::default(), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("this is JSON") && e.contains("LDIF"), "{e}");
    assert!(!e.contains("no column holds"), "{e}");
}

const MAILCOW: &str =
    "username,name,quota,active\na@acme.test,A One,1024,1\nb@acme.test,B Two,1024,0\n";

const POWERSHELL: &str = "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n\
    \"GivenName\",\"Surname\",\"UserPrincipalName\",\"EmailAddress\",\"ObjectGUID\",\"Enabled\"\r\n\
    \"Ann\",\"Lee\",\"alee@acme.test\",\"ann.lee@acme.test\",\"0b9c1f3e-2222-4c7e-9a1b-000000000001\",\"True\"\r\n\
    \"Old\",\"Account\",\"old@acme.test\",\"old@acme.test\",\"0b9c1f3e-2222-4c7e-9a1b-000000000002\",\"False\"\r\n";

/// A sheet saved by LibreOffice Calc: an ODS (a zip whose first entry is its media type,
/// stored), a number cell, and the empty rows and columns Calc writes to the sheet's end
/// as one repeated row.
fn libreoffice_ods(path: &Path) {
    use std::io::Write;
    let cell = |v: &str| match v.parse::<f64>() {
        Ok(n) => format!(
            "<table:table-cell office:value-type=\"float\" office:value=\"{n}\" \
             calcext:value-type=\"float\"><text:p>{v}</text:p></table:table-cell>"
        ),
        Err(_) => format!(
            "<table:table-cell office:value-type=\"string\" calcext:value-type=\"string\">\
             <text:p>{v}</text:p></table:table-cell>"
        ),
    };
    let rows: String = [
        ["Employee No", "First Name", "Last Name", "Email"],
        ["1001", "Zoë", "Ünal", "zoe.unal@acme.test"],
        ["1002", "Raj", "Patel", "raj.patel@acme.test"],
    ]
    .iter()
    .map(|r| {
        let cells: String = r.iter().map(|v| cell(v)).collect();
        format!("<table:table-row table:style-name=\"ro1\">{cells}</table:table-row>")
    })
    .collect();
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         xmlns:calcext=\"urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0\" \
         office:version=\"1.3\"><office:body><office:spreadsheet>\
         <table:table table:name=\"Staff\">\
         <table:table-column table:number-columns-repeated=\"4\"/>{rows}\
         <table:table-row table:number-rows-repeated=\"1048573\">\
         <table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>\
         </table:table></office:spreadsheet></office:body></office:document-content>"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" \
        manifest:version=\"1.3\">\
        <manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.3\" \
        manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
        <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\
        </manifest:manifest>";
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(manifest.as_bytes()).unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn a_libreoffice_ods_reads_its_rows_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staff.ods");
    libreoffice_ods(&path);
    let p = read(&path);
    assert_eq!(p.source.format, "ods");
    let got: Vec<(&str, &str, &str)> = p
        .rows
        .iter()
        .map(|r| (r.email(), r.first_name(), r.last_name()))
        .collect();
    assert_eq!(
        got,
        [
            ("zoe.unal@acme.test", "Zoë", "Ünal"),
            ("raj.patel@acme.test", "Raj", "Patel")
        ]
    );
}

on_both_backends!(every_vendor_file_previews_applies_and_undoes);

/// Each vendor's file, previewed, applied and undone in turn on one account: the counts
/// are what a sysadmin expects (the disabled and the outside left out), the apply
/// invites exactly the new, and undo leaves the account as the preview found it.
async fn every_vendor_file_previews_applies_and_undoes(db: &common::TestDb) {
    use std::sync::Arc;
    use usher::import::plan::Bucket;
    use usher::service::ApplyOptions;
    let (u, _clock) = common::account(db, 100).await;
    let dir = db.dir.path();
    let xlsx = dir.join("staff-report.xlsx");
    title_block_xlsx(&xlsx);
    let ods = dir.join("staff.ods");
    libreoffice_ods(&ods);
    // (file, new, disabled, outside)
    let files = [
        (write(dir, "okta.csv", OKTA), 3, 0, 0),
        (write(dir, "entra.csv", ENTRA), 2, 0, 1),
        (write(dir, "google.csv", GOOGLE), 2, 0, 0),
        (write(dir, "mailcow.csv", MAILCOW), 1, 1, 0),
        (write(dir, "powershell.csv", POWERSHELL), 1, 1, 0),
        (write(dir, "users.ldf", LDIFDE), 1, 1, 0),
        (write(dir, "people.ldif", SLAPCAT), 2, 0, 0),
        (xlsx, 2, 0, 0),
        (ods, 2, 0, 0),
    ];
    for (path, new, disabled, outside) in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = Arc::new(read(&path));
        let plan = u.import_preview(parsed.clone()).await.unwrap();
        let n = |b: Bucket| plan.counts[&b];
        assert_eq!(
            (
                n(Bucket::New),
                n(Bucket::Disabled),
                n(Bucket::OutsideDomains),
                n(Bucket::Error),
                n(Bucket::Updated)
            ),
            (new, disabled, outside, 0, 0),
            "{name}"
        );
        let opts = ApplyOptions {
            expect_digest: Some(plan.digest.clone()),
            file_name: name.clone(),
            ..Default::default()
        };
        let out = u.import_apply(&parsed, &opts).await.unwrap();
        assert_eq!(out.invited, new, "{name}");
        assert_eq!(
            u.status().await.unwrap().pending_invitations,
            new as i64,
            "{name}"
        );
        // The same file again: everyone already invited, nothing to do.
        let again = u.import_preview(parsed.clone()).await.unwrap();
        assert_eq!(
            (again.counts[&Bucket::New], again.counts[&Bucket::Pending]),
            (0, new),
            "{name}"
        );
        u.import_undo(out.batch_id).await.unwrap();
        assert_eq!(u.status().await.unwrap().pending_invitations, 0, "{name}");
        let after = u.import_preview(parsed).await.unwrap();
        assert_eq!(after.counts[&Bucket::New], new, "{name}: undone");
    }
}
