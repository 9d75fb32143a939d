//! The real binary in tmux, as a person uses it: send-keys to type, capture-pane to read.
#![allow(dead_code)] // each test binary uses a part

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::TestDb;
use usher::store::Backend;

pub struct Tmux {
    pub socket: String,
    pub session: String,
}

impl Tmux {
    pub fn start(db: &TestDb, w: u16, h: u16) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        let socket = format!(
            "usher-test-{}",
            usher::domain::token::random_hex(4).unwrap()
        );
        let t = Self {
            socket,
            session: "s".into(),
        };
        let data = db.dir.path().join("data");
        let mut env = vec![
            format!("USHER_DATA_DIR={}", data.display()),
            format!("HOME={}", db.dir.path().display()),
            "USHER_OPERATOR=admin@acme.test".to_owned(),
            "TERM=xterm-256color".to_owned(),
            "PS1=$ ".to_owned(),
        ];
        if db.backend == Backend::Postgres {
            env.push(format!("USHER_DATABASE_URL={}", db.url));
        }
        let mut cmd = Command::new("tmux");
        cmd.args([
            "-L",
            &t.socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            &t.session,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
        for e in &env {
            cmd.args(["-e", e]);
        }
        cmd.args(["bash", "--norc", "--noprofile"]);
        assert!(cmd.status().unwrap().success());
        Some(t)
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend(keys);
        self.tmux(&args);
    }

    pub fn literal(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Runs the console from the shell (which prints EXITED:<status> when it ends) and
    /// waits for its first screen.
    pub fn open_console(&self) {
        self.literal(&format!("{}; echo EXITED:$?", env!("CARGO_BIN_EXE_usher")));
        self.keys(&["Enter"]);
        self.wait_for("1 Invitations");
    }

    /// Whether the console holds the alternate screen.
    pub fn alternate(&self) -> bool {
        self.tmux(&["display", "-p", "-t", &self.session, "#{alternate_on}"])
            .trim()
            == "1"
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "'{what}' never appeared:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

pub fn spool_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("data/spool"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
        })
        .unwrap_or(0)
}

pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The binary on the test's database, without a terminal.
pub fn usher_cmd(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_usher"));
    c.env("USHER_DATA_DIR", db.dir.path().join("data"))
        .env("HOME", db.dir.path());
    if db.backend == Backend::Postgres {
        c.env("USHER_DATABASE_URL", &db.url);
    }
    c
}

pub fn init(db: &TestDb) {
    let out = usher_cmd(db)
        .args([
            "init",
            "--org",
            "Acme",
            "--domain",
            "acme.test",
            "--licences",
            "5",
            "--admin",
            "admin@acme.test",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The terminal is back to normal: main screen, canonical mode, echo.
pub fn assert_clean(t: &Tmux) {
    assert!(!t.alternate(), "the console left the alternate screen");
    // The marker is split in the command so that only the output contains it whole.
    t.literal("echo \"MO\"\"DE: $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' ')\"");
    t.keys(&["Enter"]);
    let s = t.wait_for("MODE: ");
    let line = s
        .lines()
        .find(|l| l.starts_with("MODE: "))
        .unwrap_or_default();
    assert_eq!(line.trim(), "MODE: icanon echo", "{s}");
}
