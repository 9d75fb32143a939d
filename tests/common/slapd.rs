//! OpenLDAP's slapd from Debian's packages, as an unprivileged foreground process on a
//! loopback port with an mdb database in a temporary directory, seeded and changed with
//! ldap-utils as an admin would. Two shapes: a plain inetOrgPerson tree, and AD-like
//! entries (Debian's msuser.schema, extensibleObject for AD's attributes).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SUFFIX: &str = "dc=acme,dc=test";
pub const ADMIN: &str = "cn=admin,dc=acme,dc=test";
pub const PASSWORD: &str = "directory-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Plain,
    Ad,
}

pub struct Slapd {
    pub port: u16,
    /// The ldaps:// port, when started with a certificate.
    pub tls_port: Option<u16>,
    pub dir: PathBuf,
    pub shape: Shape,
    child: Option<Child>,
}

fn slapd_bin() -> &'static str {
    if Path::new("/usr/sbin/slapd").exists() {
        "/usr/sbin/slapd"
    } else {
        "slapd"
    }
}

/// False (and a note) when slapd or ldap-utils is missing; with USHER_TEST_LDAP set (CI
/// sets it) a missing one fails the test instead.
pub fn available() -> bool {
    let ok = Path::new(slapd_bin()).exists()
        && Command::new("ldapadd")
            .arg("-VV")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !ok {
        let want = "slapd and ldap-utils (apt-get install slapd ldap-utils)";
        if std::env::var_os("USHER_TEST_LDAP").is_some() {
            panic!("USHER_TEST_LDAP is set, but this test needs {want}");
        }
        eprintln!("skipped: this test needs {want}");
    }
    ok
}

impl Slapd {
    /// Starts slapd in `dir` and adds the base entries: the suffix, ou=people and
    /// ou=groups.
    pub fn start(dir: &Path, shape: Shape) -> Self {
        Self::start_with(dir, shape, "", None)
    }

    /// The same, serving TLS with `cert` and `key` (PEM): StartTLS on the ldap:// port,
    /// and ldaps:// on a port of its own.
    pub fn start_tls(dir: &Path, shape: Shape, cert: &Path, key: &Path) -> Self {
        let tls = format!(
            "TLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
            cert.display(),
            key.display()
        );
        Self::start_with(dir, shape, &tls, Some(free_port()))
    }

    fn start_with(dir: &Path, shape: Shape, global: &str, tls_port: Option<u16>) -> Self {
        let port = free_port();
        let db = dir.join("db");
        std::fs::create_dir_all(&db).unwrap();
        let conf = dir.join("slapd.conf");
        std::fs::write(&conf, format!("{global}{}", config(dir, shape))).unwrap();
        let mut s = Self {
            port,
            tls_port,
            dir: dir.to_owned(),
            shape,
            child: None,
        };
        s.run();
        s.add(&Self::base());
        s
    }

    /// Starts slapd on a database loaded offline with `slapadd` from `ldif` (the base
    /// entries and everything else): a hundred thousand entries in seconds, where
    /// ldapadd takes minutes.
    pub fn start_loaded(dir: &Path, shape: Shape, ldif: &Path) -> Self {
        let db = dir.join("db");
        std::fs::create_dir_all(&db).unwrap();
        let conf = dir.join("slapd.conf");
        std::fs::write(&conf, config(dir, shape)).unwrap();
        let slapadd = if Path::new("/usr/sbin/slapadd").exists() {
            "/usr/sbin/slapadd"
        } else {
            "slapadd"
        };
        let out = Command::new(slapadd)
            .args(["-q", "-f"])
            .arg(&conf)
            .arg("-l")
            .arg(ldif)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapadd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = Self {
            port: free_port(),
            tls_port: None,
            dir: dir.to_owned(),
            shape,
            child: None,
        };
        s.run();
        s
    }

    /// The base entries: the suffix, ou=people and ou=groups.
    pub fn base() -> String {
        format!(
            "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Acme\ndc: acme\n\n\
             dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n"
        )
    }

    /// Starts (or starts again) the server on its port and waits for it.
    pub fn run(&mut self) {
        let mut urls = format!("ldap://127.0.0.1:{}/", self.port);
        if let Some(p) = self.tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
        }
        let child = Command::new(slapd_bin())
            .arg("-f")
            .arg(self.dir.join("slapd.conf"))
            .arg("-h")
            .arg(urls)
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("slapd.log")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("slapd did not listen on {}: {}", self.port, self.logs());
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Adds entries, as `ldapadd -f` does.
    pub fn add(&self, ldif: &str) {
        self.tool("ldapadd", ldif);
    }

    /// Applies change records, as `ldapmodify -f` does.
    pub fn modify(&self, ldif: &str) {
        self.tool("ldapmodify", ldif);
    }

    /// Deletes entries by DN.
    pub fn delete(&self, dns: &[&str]) {
        let out = Command::new("ldapdelete")
            .args(["-x", "-H", &self.url(), "-D", ADMIN, "-w", PASSWORD])
            .args(dns)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ldapdelete: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn tool(&self, tool: &str, ldif: &str) {
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url(), "-D", ADMIN, "-w", PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}\n{ldif}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server at once, as a crash or a pulled cable would.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A `[[sync.source]]` table for this server, with `extra` lines after it.
    pub fn source_toml(&self, name: &str, extra: &str) -> String {
        let kind = match self.shape {
            Shape::Plain => "openldap",
            Shape::Ad => "ad",
        };
        let pass = self.dir.join("bind.pass");
        std::fs::write(&pass, format!("{PASSWORD}\n")).unwrap();
        format!(
            "[[sync.source]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{}\"\n\
             bind_dn = \"{ADMIN}\"\npassword_file = \"{}\"\nbase_dn = \"ou=people,{SUFFIX}\"\n\
             filter = \"(objectClass=inetOrgPerson)\"\n{extra}\n",
            self.url(),
            pass.display()
        )
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.join("slapd.log")).unwrap_or_default()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("slapd's log:\n{}", self.logs());
        }
        self.stop();
    }
}

/// The server's configuration: the schemas of the shape, one mdb database, the admin
/// as its root DN, and no size limit for the admin (paged reads go past the default 500).
fn config(dir: &Path, shape: Shape) -> String {
    let mut schemas = vec!["core", "cosine", "inetorgperson", "nis"];
    if shape == Shape::Ad {
        schemas.push("msuser");
    }
    let includes: String = schemas
        .iter()
        .map(|s| format!("include /etc/ldap/schema/{s}.schema\n"))
        .collect();
    format!(
        "{includes}modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         pidfile {d}/slapd.pid\nargsfile {d}/slapd.args\n\
         database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ADMIN}\"\nrootpw {PASSWORD}\n\
         directory {d}/db\nmaxsize 4294967296\n\
         index objectClass eq\nindex entryUUID eq\n",
        d = dir.display()
    )
}

/// A person of the plain shape.
pub fn person(uid: &str, given: &str, sn: &str, mail: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\n\
         cn: {given} {sn}\ngivenName: {given}\nsn: {sn}\nmail: {mail}\n\n"
    )
}

/// A person of the AD shape: an inetOrgPerson carrying AD's attributes, with a binary
/// objectGUID made from `n`.
pub fn ad_person(n: u8, given: &str, sn: &str, mail: &str, uac: u32) -> String {
    use base64::Engine;
    let guid: Vec<u8> = (0..16)
        .map(|i| if i == 15 { n } else { 0x10 + i })
        .collect();
    let guid = base64::engine::general_purpose::STANDARD.encode(guid);
    format!(
        "dn: cn={given} {sn},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\n\
         objectClass: extensibleObject\ncn: {given} {sn}\ngivenName: {given}\nsn: {sn}\n\
         displayName: {given} {sn}\nmail: {mail}\nuserPrincipalName: {mail}\n\
         sAMAccountName: {}\nuserAccountControl: {uac}\nuSNChanged: {}\nobjectGUID:: {guid}\n\n",
        given.to_lowercase(),
        1000 + u32::from(n)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}
