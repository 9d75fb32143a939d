//! Dovecot from Debian's packages, as an unprivileged foreground process on a loopback
//! port, reading the configuration `usher mailserver config dovecot` wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Dovecot {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

/// The users Dovecot runs as: the test's own, or Debian's dovecot users under root
/// (Dovecot lets no process log in or read mail as root).
pub struct Users {
    pub login: String,
    pub internal: String,
    pub internal_group: String,
    pub vmail: String,
    pub vmail_group: String,
}

pub fn users() -> Users {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    if id("-u") == "0" {
        Users {
            login: "dovenull".into(),
            internal: "dovecot".into(),
            internal_group: "dovecot".into(),
            vmail: "nobody".into(),
            vmail_group: "nogroup".into(),
        }
    } else {
        let (me, group) = (id("-un"), id("-gn"));
        Users {
            login: me.clone(),
            internal: me.clone(),
            internal_group: group.clone(),
            vmail: me,
            vmail_group: group,
        }
    }
}

/// False (and a note) when Dovecot is not installed; CI sets USHER_TEST_MAILSERVER, and
/// then a missing Dovecot fails the test.
pub fn available() -> bool {
    let ok = Command::new("dovecot")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: dovecot is not installed (apt-get install dovecot-imapd dovecot-sqlite dovecot-pgsql)"
        );
    }
    ok
}

impl Dovecot {
    /// The path of the configuration `start` writes in `dir`, for doveadm.
    pub fn conf(dir: &Path) -> PathBuf {
        dir.join("dovecot.conf")
    }

    /// Starts Dovecot in `dir` with `include` (usher's snippet) and `extra` settings, and
    /// returns once it answers on its IMAP port.
    pub fn start(dir: &Path, include: &Path, extra: &str) -> Self {
        let u = users();
        let port = free_port();
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let conf = Self::conf(dir);
        std::fs::write(
            &conf,
            format!(
                "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
                 protocols = imap\nlisten = 127.0.0.1\nssl = no\n\
                 disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
                 default_login_user = {login}\ndefault_internal_user = {internal}\n\
                 default_internal_group = {group}\nauth_verbose = yes\n\
                 first_valid_uid = 1\nmaildir_very_dirty_syncs = yes\n\
                 service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
                 service stats {{\n  unix_listener stats-reader {{\n    user = {internal}\n  }}\n  unix_listener stats-writer {{\n    user = {internal}\n  }}\n}}\n\
                 {extra}\n!include {include}\n",
                d = dir.display(),
                login = u.login,
                internal = u.internal,
                group = u.internal_group,
                include = include.display(),
            ),
        )
        .unwrap();
        let mut dovecot = Command::new("dovecot");
        dovecot.args(["-F", "-c"]).arg(&conf);
        Self::run(dovecot, dir, port)
    }

    /// Runs Dovecot by `command` and waits for its IMAP port.
    fn run(mut command: Command, dir: &Path, port: u16) -> Self {
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let d = Self {
            port,
            dir: dir.to_owned(),
            child: Some(child),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return d;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("dovecot did not listen on {port}: {}", d.logs());
    }

    /// Starts Debian 13's Dovecot 2.4 in the root `root` (debootstrapped by CI), with
    /// usher's 2.4 snippet. Paths under `root` are the same inside it as outside, thanks
    /// to a link `root/root -> /`, so `dir` must lie under `root`.
    pub fn start_24(root: &Path, dir: &Path, include: &Path) -> Self {
        let port = free_port();
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let conf = Self::conf(dir);
        std::fs::write(
            &conf,
            format!(
                "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n\
                 base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
                 protocols = imap\nlisten = 127.0.0.1\nssl = no\n\
                 auth_allow_cleartext = yes\nauth_mechanisms = plain login\n\
                 default_login_user = dovenull\ndefault_internal_user = dovecot\n\
                 default_internal_group = dovecot\nauth_verbose = yes\n\
                 service imap-login {{\n  inet_listener imap {{\n    listen = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
                 !include {include}\n",
                d = dir.display(),
                include = include.display(),
            ),
        )
        .unwrap();
        let mut chroot = Command::new("chroot");
        chroot.arg(root).args(["dovecot", "-F", "-c"]).arg(&conf);
        Self::run(chroot, dir, port)
    }

    /// A Debian 13 root with Dovecot 2.4 (USHER_TEST_DOVECOT24_ROOT, which CI makes with
    /// debootstrap), prepared so that paths under it resolve inside it; None (and a note)
    /// without one, or when not root (chroot needs it).
    pub fn root_24() -> Option<PathBuf> {
        let root = std::env::var_os("USHER_TEST_DOVECOT24_ROOT").map(PathBuf::from);
        let usable = root
            .as_ref()
            .is_some_and(|r| r.join("usr/sbin/dovecot").exists())
            && users().vmail == "nobody";
        if !usable {
            let want = "a Debian 13 root with Dovecot 2.4 in USHER_TEST_DOVECOT24_ROOT, and root (.ci/run makes one with debootstrap)";
            if std::env::var_os("USHER_TEST_MAILSERVER").is_some() {
                panic!("USHER_TEST_MAILSERVER is set, but this test needs {want}");
            }
            eprintln!("skipped: this test needs {want}");
            return None;
        }
        let root = root?.canonicalize().unwrap();
        let inside = root.join(root.strip_prefix("/").unwrap());
        if std::fs::symlink_metadata(&inside).is_err() {
            std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
            let _ = std::os::unix::fs::symlink("/", &inside);
        }
        Some(root)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("dovecot.log"))
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("dovecot's log:\n{}", self.logs());
        }
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}
