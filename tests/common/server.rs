//! `usher serve` as a subprocess, with its config pointing mail at a real SMTP sink and
//! links at the port it listens on; the CLI commands of a test share that config.
#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::cli;
use crate::common::TestDb;
use crate::common::smtp::SmtpSink;

pub struct Served {
    pub base: String,
    pub config: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    /// Held open: the server writes to it as it stops.
    _stdout: BufReader<std::process::ChildStdout>,
}

/// A free local port (a tiny race with other processes, acceptable in tests).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl Served {
    /// Writes the config (with `extra` TOML appended to the [serve] section) and starts
    /// the server; returns once it listens.
    pub fn start(db: &TestDb, sink: &SmtpSink, extra: &str) -> Self {
        Self::start_at(db, sink, "http://127.0.0.1", extra)
    }

    /// The same, with links under `origin` ("https://localhost") and the port picked here.
    pub fn start_at(db: &TestDb, sink: &SmtpSink, origin: &str, extra: &str) -> Self {
        Self::start_limited(db, sink, origin, extra, None)
    }

    /// The same, the server run under `ulimit -n files` (a hard limit it cannot raise).
    pub fn start_limited(
        db: &TestDb,
        sink: &SmtpSink,
        origin: &str,
        extra: &str,
        files: Option<u32>,
    ) -> Self {
        let port = free_port();
        let base = format!("{origin}:{port}");
        let config = db.dir.path().join("serve.toml");
        std::fs::write(
            &config,
            format!(
                "public_url = \"{base}\"\n\
                 [serve]\nbind = \"127.0.0.1:{port}\"\n{extra}\n\
                 [mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\n\
                 [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
                sink.port
            ),
        )
        .unwrap();
        // As an installer does: the database made first (only init and db migrate make
        // one), the service started on it.
        let made = Self::command(db, &config)
            .args(["db", "migrate"])
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let log = db.dir.path().join("serve.log");
        let mut serve = Self::command(db, &config);
        serve.arg("serve");
        if let Some(n) = files {
            serve = under_ulimit(serve, n);
        }
        let mut child = serve
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        assert!(
            line.contains("listening on"),
            "usher serve did not start: {line:?} {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Self {
            base,
            config,
            log,
            child: Some(child),
            _stdout: stdout,
        }
    }

    /// The server over HTTPS on a self-signed certificate for localhost; returns it and
    /// the certificate's file (for a client to trust).
    pub fn start_https(db: &TestDb, sink: &SmtpSink) -> (Self, PathBuf) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (crt, key) = (db.dir.path().join("tls.crt"), db.dir.path().join("tls.key"));
        std::fs::write(&crt, cert.cert.pem()).unwrap();
        std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
        let extra = format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"",
            crt.display(),
            key.display()
        );
        (Self::start_at(db, sink, "https://localhost", &extra), crt)
    }

    /// `usher` with this server's config (for init, invite and checks).
    pub fn command(db: &TestDb, config: &PathBuf) -> Command {
        let mut c = cli::usher(db);
        c.env("USHER_CONFIG", config);
        c
    }

    /// The account every server test starts from: Acme, acme.test, ten licences.
    pub fn init(&self, db: &TestDb) {
        self.cli(
            db,
            &[
                "init",
                "--org",
                "Acme",
                "--domain",
                "acme.test",
                "--licences",
                "10",
                "--admin",
                "admin@acme.test",
            ],
        );
    }

    pub fn cli(&self, db: &TestDb, args: &[&str]) -> String {
        let out = Self::command(db, &self.config).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "usher {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Stops it as systemd would (SIGTERM) and returns its exit status and stdout's rest.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .ok()?;
        c.wait().ok()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("usher serve's log:\n{}", self.log_text());
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `c` run through the shell under `ulimit -n files`, hard and soft.
fn under_ulimit(c: Command, files: u32) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
        .arg(c.get_program())
        .args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    if let Some(d) = c.get_current_dir() {
        sh.current_dir(d);
    }
    sh
}

/// Waits (up to 20 s) for a message to `to` whose text contains `needle`; returns it with
/// quoted-printable soft breaks undone.
pub fn wait_for_mail(sink: &SmtpSink, to: &str, needle: &str) -> String {
    for _ in 0..200 {
        for (rcpt, raw) in sink.messages() {
            let text = raw.replace("=\r\n", "").replace("=\n", "");
            if rcpt.iter().any(|r| r == to) && text.contains(needle) {
                return text;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "no mail to {to} containing {needle:?}: {:?}",
        sink.messages()
    );
}

/// The path of the first link under `prefix` ("/enrol/") in a message.
pub fn link_path(text: &str, prefix: &str) -> String {
    let at = text.find(prefix).unwrap();
    let token: String = text[at + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{prefix}{token}")
}
