//! A PostgreSQL server of the test's own (initdb into a temporary directory, on a free
//! port), so that a test can stop, kill and restart the database under usher without
//! touching the shared server the other tests use.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

pub struct Cluster {
    pub port: u16,
    dir: TempDir,
    bin: PathBuf,
}

/// PostgreSQL's programs: `pg_config --bindir`, else Debian's newest version.
fn bindir() -> Option<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let debian = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        let mut v: Vec<PathBuf> = d
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .collect();
        v.sort();
        v.pop()
    });
    [from_config, debian]
        .into_iter()
        .flatten()
        .find(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Cluster {
    /// A new, running server; None (with a note) when the tests have no PostgreSQL, and
    /// a failure when they were asked to run on it but its programs cannot be found.
    pub fn start() -> Option<Self> {
        if std::env::var(crate::common::PG_ENV).is_err() {
            eprintln!("skipped: {} is not set", crate::common::PG_ENV);
            return None;
        }
        let bin = bindir().expect("PostgreSQL's initdb and pg_ctl (pg_config --bindir)");
        let dir = tempfile::tempdir().expect("tempdir");
        // PostgreSQL refuses to run as root: as root, run it as the postgres user.
        if is_root() {
            chown_postgres(dir.path());
        }
        let c = Self {
            port: free_port(),
            dir,
            bin,
        };
        c.pg(&[
            "initdb",
            "-D",
            &c.data(),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        c.up();
        Some(c)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// A PostgreSQL program, run as postgres when the tests run as root.
    fn command(&self, prog: &str) -> Command {
        let program = self.bin.join(prog);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        }
    }

    fn pg(&self, args: &[&str]) {
        let (prog, rest) = args.split_first().expect("a program");
        let out = self
            .command(prog)
            .args(rest)
            .stdin(Stdio::null())
            .output()
            .expect("run a PostgreSQL program");
        assert!(
            out.status.success(),
            "{prog} {rest:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.pg(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-o",
            &opts,
            "-l",
            &log,
            "-w",
            "start",
        ]);
    }

    /// Stops the server as a crash would (`-m immediate`: no checkpoint, connections cut,
    /// recovery at the next start).
    pub fn crash(&self) {
        self.pg(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn chown_postgres(dir: &Path) {
    let ok = Command::new("chown")
        .arg("postgres:")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "running as root, the tests need a postgres user to run PostgreSQL as"
    );
}
