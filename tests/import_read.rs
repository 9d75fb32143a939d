//! Reading user lists: the encodings, dialects and exports a sysadmin is likely to have,
//! and hostile files that must be refused clearly with bounded memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/sheets.rs"]
mod sheets;

use std::io::Write;
use std::path::{Path, PathBuf};

use usher::domain::UserType;
use usher::import::{Field, ImportError, Parsed, ReadOptions, parse_file, parse_mapping};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn parse(path: &Path) -> Parsed {
    parse_file(path, &ReadOptions::default(), &[]).unwrap()
}

fn emails(p: &Parsed) -> Vec<&str> {
    p.rows.iter().map(|r| r.email()).collect()
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf8_with_bom_and_seed_000_headers() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "u.csv", "\u{feff}Unique Reference,Primary email address,FirstName,LastName\nS-1,Zoë@Acme.test,Zoë,Ørsted\n".as_bytes());
    let p = parse(&f);
    assert_eq!(p.source.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(emails(&p), ["zoë@acme.test"]);
    let r = &p.rows[0];
    assert_eq!(
        (r.first_name(), r.last_name(), r.unique_ref(), r.row),
        ("Zoë", "Ørsted", Some("S-1"), 2)
    );
}

#[test]
fn windows_1252_pound_sign_is_read_not_replaced() {
    let d = tempfile::tempdir().unwrap();
    // Seed 003's case: a "£" saved by Excel on Windows (byte 0xA3), not UTF-8.
    let mut bytes = b"Email,Name,Password,Force Change Password\n".to_vec();
    bytes.extend(b"fin@acme.test,Finance \xA3 Team,Secret-pass1,FALSE\n");
    let p = parse(&write(d.path(), "seed003.csv", &bytes));
    assert_eq!(p.source.encoding.as_deref(), Some("windows-1252"));
    assert!(
        p.source
            .note
            .as_deref()
            .is_some_and(|n| n.contains("row 2")),
        "{:?}",
        p.source.note
    );
    let r = &p.rows[0];
    assert_eq!((r.first_name(), r.last_name()), ("Finance £", "Team"));
    assert!(!r.force_change_password);
    assert_eq!(
        r.password.as_ref().map(|s| s.expose()),
        Some("Secret-pass1")
    );
    assert!(
        !format!("{r:?}").contains("Secret-pass1"),
        "the password never prints"
    );
    // Forcing UTF-8 on it is refused with the row, not silently replaced.
    let e = parse_file(
        &d.path().join("seed003.csv"),
        &ReadOptions {
            encoding: Some("utf-8".into()),
            sheet: None,
            ..Default::default()
        },
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("row 2") && e.to_string().contains("not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn utf16_le_and_be_with_tabs_as_excel_unicode_text() {
    let d = tempfile::tempdir().unwrap();
    let text = "First Name\tLast Name\tEmail Address\r\nZoë\tÅberg\tzoe@acme.test\r\n";
    for (name, be) in [("le.txt", false), ("be.txt", true)] {
        let p = parse(&write(d.path(), name, &utf16(text, be)));
        assert_eq!(p.source.delimiter.as_deref(), Some("tab"));
        assert_eq!(p.rows[0].last_name(), "Åberg", "{name}");
        assert_eq!(
            p.source.encoding.as_deref(),
            Some(if be { "UTF-16BE" } else { "UTF-16LE" })
        );
    }
}

#[test]
fn semicolons_and_quoted_newlines() {
    let d = tempfile::tempdir().unwrap();
    // Excel's Alt-Enter puts newlines in free-text cells; they parse, and the row numbers
    // count records as a spreadsheet shows them.
    let text = "email;first name;last name;notes\n\"a@acme.test\";Ann;Lee;\"floor 2\nroom 7\"\nb@acme.test;Bob;\"O;Neil\";\nc@acme.test;\"Cy\nRus\";X;\n";
    let p = parse(&write(d.path(), "semi.csv", text.as_bytes()));
    assert_eq!(p.source.delimiter.as_deref(), Some(";"));
    assert_eq!(emails(&p), ["a@acme.test", "b@acme.test"]);
    assert_eq!(p.rows[1].last_name(), "O;Neil");
    assert_eq!(p.rows[1].row, 3);
    // A newline inside a name would end a mail header: refused, with row and column.
    assert_eq!(p.errors.len(), 1);
    assert!(
        p.errors[0]
            .to_string()
            .starts_with("row 4, column 'first name': 'Cy\\u{a}Rus' contains control"),
        "{}",
        p.errors[0]
    );
}

#[test]
fn common_exports_load_without_mapping() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "google.csv",
            "First Name [Required],Last Name [Required],Email Address [Required],Password [Required]\nAnn,Lee,ann@acme.test,Abcdefgh1\n",
        ),
        (
            "m365.csv",
            "User Name,First Name,Last Name,Display Name,Job Title\nann@acme.test,Ann,Lee,Ann Lee,CFO\n",
        ),
        (
            "ad.csv",
            "objectSid,userPrincipalName,mail,givenName,sn\nS-1-5-21-9,ann.lee@corp.local,ann@acme.test,Ann,Lee\n",
        ),
        (
            "usher.csv",
            "email,first_name,last_name,unique_ref,user_type\nann@acme.test,Ann,Lee,E42,guest\n",
        ),
    ];
    for (name, text) in cases {
        let p = parse(&write(d.path(), name, text.as_bytes()));
        assert_eq!(emails(&p), ["ann@acme.test"], "{name}");
        assert_eq!(p.rows[0].first_name(), "Ann", "{name}");
        assert!(p.errors.is_empty(), "{name}: {:?}", p.errors);
    }
    let p = parse(&d.path().join("usher.csv"));
    assert_eq!(p.rows[0].user_type, Some(UserType::Guest));
}

#[test]
fn mapping_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "odd.csv",
        b"Mailbox,Given,Family\nann@acme.test,Ann,Lee\n",
    );
    let e = parse_file(&f, &ReadOptions::default(), &[]).unwrap_err();
    assert!(e.to_string().contains("--map email=COLUMN"), "{e}");
    let map = parse_mapping("email=Mailbox,first_name=Given,last_name=family").unwrap();
    let p = parse_file(&f, &ReadOptions::default(), &map).unwrap();
    assert_eq!(
        (p.rows[0].first_name(), p.rows[0].last_name()),
        ("Ann", "Lee")
    );
    assert_eq!(p.columns.header(Field::LastName), Some("Family"));
}

#[test]
fn every_bad_row_is_named_with_its_column_and_reason() {
    let d = tempfile::tempdir().unwrap();
    let text = "Email,First Name,Last Name,Unique Reference,Type\n\
        ann@acme.test,Ann,Lee,R1,professional\n\
        bob@,Bob,Smith,R2,guest\n\
        ,No,Address,R3,\n\
        eve@acme.test,Eve\u{1b}[31m,X,R4,\n\
        ANN@acme.test,Ann,Again,R5,\n\
        carl@acme.test,Carl,Ref,R1,\n\
        dan@acme.test,Dan,Type,R6,boss\n";
    let p = parse(&write(d.path(), "bad.csv", text.as_bytes()));
    assert_eq!(emails(&p), ["ann@acme.test"]);
    let got: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
    let expect = [
        "row 3, column 'Email': 'bob@' is not an e-mail address",
        "row 4, column 'Email': empty",
        "row 5, column 'First Name': 'Eve\\u{1b}[31m' contains control",
        "row 6, column 'Email': ann@acme.test appears again (first at row 2)",
        "row 7, column 'Unique Reference': 'R1' appears again (first at row 2)",
        "row 8, column 'Type': 'boss' is not professional or guest",
    ];
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for (g, e) in got.iter().zip(expect) {
        assert!(g.starts_with(e), "{g} should start with {e}");
    }
}

fn xlsx(path: &Path, sheets: &[(&str, Vec<Vec<&str>>)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn xlsx_any_sheet_and_a_far_cell() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("users.xlsx");
    xlsx(
        &f,
        &[
            ("Roles", vec![vec!["Role"], vec!["Admin"]]),
            (
                "Users",
                vec![
                    vec!["First name", "Last name", "E-mail"],
                    vec!["Ann", "Lee", "ann@acme.test"],
                    vec!["", "", ""],
                    vec!["Bob", "Smith", "bob@acme.test"],
                ],
            ),
        ],
    );
    let opts = ReadOptions {
        encoding: None,
        sheet: Some("users".into()),
        ..Default::default()
    };
    let p = parse_file(&f, &opts, &[]).unwrap();
    assert_eq!(emails(&p), ["ann@acme.test", "bob@acme.test"]);
    assert_eq!(
        p.rows[1].row, 4,
        "spreadsheet row numbers, blank rows skipped"
    );
    assert_eq!(p.source.sheet.as_deref(), Some("Users"));
    let e = parse_file(
        &f,
        &ReadOptions {
            encoding: None,
            sheet: Some("Nope".into()),
            ..Default::default()
        },
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("no sheet 'Nope'; the sheets are Roles, Users"),
        "{e}"
    );
    // A lone cell at XFD1048576 costs one cell, not a 16,384 x 1,048,576 grid.
    let far = d.path().join("far.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "email").unwrap();
    ws.write_string(1, 0, "ann@acme.test").unwrap();
    ws.write_string(1_048_575, 16_383, "far away").unwrap();
    wb.save(&far).unwrap();
    let p = parse(&far);
    assert_eq!(emails(&p), ["ann@acme.test"]);
    assert_eq!(
        p.errors.len(),
        1,
        "the far row has no address: {:?}",
        p.errors
    );
    assert_eq!(p.errors[0].row, 1_048_576);
}

#[test]
fn hostile_files_are_refused_clearly() {
    let d = tempfile::tempdir().unwrap();
    let err = |name: &str, bytes: &[u8]| {
        parse_file(&write(d.path(), name, bytes), &ReadOptions::default(), &[]).unwrap_err()
    };
    assert!(matches!(err("empty.csv", b""), ImportError::Empty { .. }));
    let header_only = parse(&write(d.path(), "header.csv", b"email,first name\n"));
    assert!(header_only.rows.is_empty() && header_only.errors.is_empty());
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    assert!(err("blob.csv", &binary).to_string().contains("binary file"));
    assert!(
        err("fake.xlsx", b"email\nann@acme.test\n")
            .to_string()
            .contains("spreadsheet archive")
    );
    // A real workbook cut in half.
    let f = d.path().join("whole.xlsx");
    xlsx(
        &f,
        &[("Sheet1", vec![vec!["email"], vec!["ann@acme.test"]])],
    );
    let bytes = std::fs::read(&f).unwrap();
    let e = err("cut.xlsx", &bytes[..bytes.len() / 2]);
    assert!(matches!(e, ImportError::Corrupt { .. }), "{e}");
}

#[test]
fn a_hundred_megabyte_line_is_refused_without_reading_it_all() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("long.csv");
    let mut file = std::fs::File::create(&f).unwrap();
    file.write_all(b"email,first name\nann@acme.test,").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\n").unwrap();
    drop(file);
    let e = parse_file(&f, &ReadOptions::default(), &[]).unwrap_err();
    assert!(e.to_string().contains("longer than 1048576 bytes"), "{e}");
    assert!(e.to_string().contains("long.csv"), "{e}");
}

#[test]
fn a_zip_bomb_is_refused_before_unpacking() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bomb.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&f).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", opts.large_file(false))
        .unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..200 {
        zip.write_all(&zeros).unwrap(); // 200 MB of spaces: a few hundred KB packed
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&f).unwrap().len() < 2 << 20);
    let e = parse_file(&f, &ReadOptions::default(), &[]).unwrap_err();
    assert!(e.to_string().contains("zip bomb"), "{e}");
}

#[test]
fn the_templates_read_back_with_their_example_row() {
    let d = tempfile::tempdir().unwrap();
    let csv = d.path().join("t.csv");
    usher::import::template::write_csv(&csv).unwrap();
    let xlsx = d.path().join("t.xlsx");
    usher::import::template::write_xlsx(&xlsx).unwrap();
    for f in [csv, xlsx] {
        let p = parse(&f);
        assert_eq!(emails(&p), ["ann.lee@example.org"], "{}", f.display());
        assert_eq!(p.rows[0].unique_ref(), Some("EMP-0042"));
        assert_eq!(p.rows[0].user_type, Some(UserType::Professional));
        assert_eq!(
            p.columns.found.len(),
            7,
            "every template column is recognised"
        );
    }
    let help = parse_file(
        &d.path().join("t.xlsx"),
        &ReadOptions {
            encoding: None,
            sheet: Some("Columns".into()),
            ..Default::default()
        },
        &parse_mapping("email=column").unwrap(),
    );
    assert!(help.is_ok(), "the Columns sheet is there");
}

/// docs/text.md: invisible characters refused in names and addresses, and named visibly;
/// decomposed text composed; faults counted by row.
#[test]
fn invisible_characters_are_refused_and_decomposed_text_composed() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "people.csv",
        "email,first_name,last_name\n\
         carl\u{200B}@example.org,Carl,Z\u{200B}ero\n\
         soft@example.org,Ma\u{AD}ry,W\u{2060}J\n\
         zwj@example.org,A\u{200D}B,Lee\n\
         jose\u{301}@example.org,Jose\u{301},Lee\n\
         nazanin@example.org,\u{646}\u{627}\u{632}\u{200C}\u{646}\u{6CC}\u{646},Ahmadi\n"
            .as_bytes(),
    );
    let parsed = parse(&p);
    let faulty: std::collections::BTreeSet<u64> = parsed.errors.iter().map(|e| e.row).collect();
    assert_eq!(
        faulty.into_iter().collect::<Vec<_>>(),
        [2, 3, 4],
        "{:?}",
        parsed.errors
    );
    // The address's fault is said once, with the hidden character shown.
    let row2: Vec<String> = parsed
        .errors
        .iter()
        .filter(|e| e.row == 2)
        .map(ToString::to_string)
        .collect();
    assert_eq!(row2.len(), 2, "{row2:?}");
    assert_eq!(
        row2.iter()
            .filter(|e| e.contains("carl\\u{200b}@example.org"))
            .count(),
        1,
        "{row2:?}"
    );
    assert!(row2.iter().all(|e| !e.contains('\u{200B}')), "{row2:?}");
    // NFD in, NFC kept: the address and the name compare with what is typed.
    let jose = parsed.rows.iter().find(|r| r.last_name() == "Lee").unwrap();
    assert_eq!(jose.email(), "jos\u{E9}@example.org");
    assert_eq!(jose.first_name(), "Jos\u{E9}");
    // ZWNJ belongs to Persian names.
    assert!(
        parsed
            .rows
            .iter()
            .any(|r| r.email() == "nazanin@example.org")
    );
}

/// PowerShell's `Export-Csv` without `-NoTypeInformation`: a `#TYPE` line above the
/// header, semicolons as in a German locale.
#[test]
fn a_type_line_above_the_header_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ad.csv",
        b"#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n\
          \"GivenName\";\"Surname\";\"EmailAddress\";\"SamAccountName\"\r\n\
          \"Ann\";\"Lee\";\"ann@acme.test\";\"alee\"\r\n\
          \"Bob\";\"Smith\";\"bob@acme.test\";\"bsmith\"\r\n",
    );
    let parsed = parse(&p);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(emails(&parsed), ["ann@acme.test", "bob@acme.test"]);
    assert_eq!(parsed.source.delimiter.as_deref(), Some(";"));
    assert_eq!(
        (parsed.source.header_row, parsed.source.above_header),
        (2, 1)
    );
    assert_eq!(parsed.rows[0].row, 3, "rows keep their numbers in the file");
}

/// A report exported from a spreadsheet: a title and a date above the column names.
#[test]
fn a_title_block_is_found_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staff.xlsx");
    sheets::title_block_xlsx(&path);
    let parsed = parse(&path);
    assert_eq!(emails(&parsed), ["ann@acme.test", "bob@acme.test"]);
    assert_eq!(
        (parsed.source.header_row, parsed.source.above_header),
        (4, 2)
    );
    // Named by hand: the row must hold the names.
    let named = |n| {
        parse_file(
            &path,
            &ReadOptions {
                header_row: Some(n),
                ..ReadOptions::default()
            },
            &[],
        )
    };
    assert_eq!(
        emails(&named(4).unwrap()),
        ["ann@acme.test", "bob@acme.test"]
    );
    let e = named(2).unwrap_err().to_string();
    assert!(e.contains("no column holds e-mail addresses"), "{e}");
    let e = named(3).unwrap_err().to_string();
    assert!(e.contains("--header-row 3: row 3 is blank"), "{e}");
    // A file with no header at all still says which columns it saw.
    let p = write(dir.path(), "bare.csv", b"ann@acme.test\nbob@acme.test\n");
    let e = parse_file(&p, &ReadOptions::default(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column holds e-mail addresses; the columns are 'ann@acme.test'"),
        "{e}"
    );
}
