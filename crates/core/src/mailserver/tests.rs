#![allow(clippy::unwrap_used)]

use super::*;

fn pg(password: Option<&str>, schema: Option<&str>) -> MailDb {
    MailDb::from_url(
        "postgres://usher@db.example:5433/mail",
        DEFAULT_ROLE,
        password.map(str::to_owned),
        schema.map(str::to_owned),
    )
    .unwrap()
}

#[test]
fn the_mail_server_reaches_the_same_database_as_its_own_role() {
    assert_eq!(
        pg(Some("s3 cret'"), Some("usher")),
        MailDb::Postgres {
            host: "db.example".into(),
            port: 5433,
            dbname: "mail".into(),
            user: "usher_mail".into(),
            password: Some("s3 cret'".into()),
            schema: Some("usher".into()),
        }
    );
    assert_eq!(pg(None, Some("public")).view(LOGINS), LOGINS);
    assert_eq!(
        pg(None, Some("a\"b")).view(LOGINS),
        format!("\"a\"\"b\".{LOGINS}")
    );
    let file = MailDb::from_url("sqlite:///var/lib/usher/usher.db", "x", None, None).unwrap();
    assert_eq!(
        file,
        MailDb::Sqlite {
            path: "/var/lib/usher/usher.db".into()
        }
    );
    assert!(MailDb::from_url("postgres://[", "x", None, None).is_err());
}

#[test]
fn dovecot_23_reads_its_sql_from_the_file_beside_it() {
    let dir = Path::new("/etc/dovecot/usher");
    let s = dovecot(
        &pg(Some("s3 cret'"), None),
        &Layout::default(),
        DovecotVersion::V23,
        dir,
    );
    assert_eq!(s.parts.len(), 2);
    assert!(
        s.parts[0]
            .text
            .contains("args = /etc/dovecot/usher/usher-sql.conf.ext")
    );
    assert!(
        s.parts[0]
            .text
            .contains("home=/var/vmail/%d/%n mail=maildir:~/Maildir")
    );
    let sql = &s.parts[1].text;
    assert!(sql.contains("driver = pgsql"));
    assert!(sql.contains("password='s3 cret\\''"), "{sql}");
    assert!(sql.contains("WHERE login = '%Lu' AND may_login"));
    // Printed as one text, the SQL file is a comment: the include stays valid.
    let one = s.as_one_text();
    assert!(one.contains("# driver = pgsql"));
    assert!(!one.lines().any(|l| l.starts_with("driver")));
}

#[test]
fn dovecot_24_is_one_file_with_named_blocks() {
    let s = dovecot(
        &pg(None, Some("tenant")),
        &Layout::default(),
        DovecotVersion::V24,
        Path::new("/x"),
    );
    assert_eq!(s.parts.len(), 1);
    let t = &s.parts[0].text;
    assert!(t.contains("sql_driver = pgsql\npgsql db.example {"));
    assert!(t.contains("passdb sql {"));
    assert!(t.contains(&format!(
        "FROM \"tenant\".{LOGINS} WHERE login = '%{{user | lower}}'"
    )));
    assert!(t.contains("mail_driver = maildir\n    mail_path = ~/Maildir"));
    assert!(!t.contains("driver = sql"));
    assert_eq!("2.4.1".parse(), Ok(DovecotVersion::V24));
    assert_eq!("2.3.19.1".parse(), Ok(DovecotVersion::V23));
    assert!("3.0".parse::<DovecotVersion>().is_err());
}

#[test]
fn postfix_has_a_table_per_parameter() {
    let db = MailDb::Sqlite {
        path: "/var/lib/usher/usher.db".into(),
    };
    let s = postfix(&db, Path::new("/etc/postfix/usher"));
    let names: Vec<_> = s.parts.iter().map(|p| p.file).collect();
    assert_eq!(
        names,
        [
            "main.cf",
            "domains.cf",
            "mailboxes.cf",
            "aliases.cf",
            "senders.cf"
        ]
    );
    assert!(
        s.parts[0]
            .text
            .contains("smtpd_sender_login_maps = proxy:sqlite:/etc/postfix/usher/senders.cf")
    );
    assert!(s.parts[4].text.contains("dbpath = /var/lib/usher/usher.db"));
    assert!(s.parts[4].text.contains(&format!(
        "query = SELECT login FROM {SEND_AS} WHERE address = '%s'"
    )));
}

#[test]
fn stalwart_is_toml_with_the_placeholder_of_its_backend() {
    let s = stalwart(&pg(Some("p\"w"), None), Path::new("/x"));
    let text = &s.parts[0].text;
    let t: toml::Table = text.parse().unwrap();
    assert_eq!(t["store"]["usher"]["type"].as_str(), Some("postgresql"));
    assert_eq!(t["store"]["usher"]["password"].as_str(), Some("p\"w"));
    let q = stalwart_queries(text);
    assert_eq!(q.len(), 5);
    assert!(q.iter().all(|(_, sql)| sql.contains("$1")));
    let file = MailDb::Sqlite {
        path: "/d/u.db".into(),
    };
    let q = stalwart_queries(&stalwart(&file, Path::new("/x")).parts[0].text);
    assert!(
        q.iter()
            .all(|(_, sql)| sql.contains('?') && !sql.contains("$1"))
    );
}
