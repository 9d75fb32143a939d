//! Starts the aiosmtpd sink (`smtp_sink.py`) and reads what arrived.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A python3 that can import aiosmtpd: the system one, else a venv under target/.
pub fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let ok = |py: &Path| {
            Command::new(py)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let system = PathBuf::from("python3");
        if ok(&system) {
            return system;
        }
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv");
        let py = venv.join("bin/python3");
        if !ok(&py) {
            // Several test binaries may get here at once; a lock directory serialises them.
            let lock = venv.with_extension("lock");
            while std::fs::create_dir(&lock).is_err() {
                if ok(&py) {
                    return py;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            let status = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .and_then(|_| {
                    Command::new(&py)
                        .args(["-m", "pip", "install", "--quiet", "aiosmtpd==1.4.6"])
                        .status()
                });
            let _ = std::fs::remove_dir(&lock);
            assert!(
                status.is_ok_and(|s| s.success()) && ok(&py),
                "the SMTP tests need Python's aiosmtpd: pip install aiosmtpd"
            );
        }
        py
    })
    .clone()
}

pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl SmtpSink {
    pub fn start(dir: &Path) -> Self {
        Self::start_on(dir, 0)
    }

    /// Starts on `port` (0: any free port), writing messages into `dir`.
    pub fn start_on(dir: &Path, port: u16) -> Self {
        Self::start_with(dir, port, &[])
    }

    /// Starts with extra sink arguments (`--tls`, `--cert`, `--key`, `--auth`).
    pub fn start_with(dir: &Path, port: u16, extra: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("sink stdout"))
            .read_line(&mut line)
            .expect("read the sink's READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Self {
            port,
            dir: dir.to_owned(),
            child: Some(child),
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            drop(c.stdin.take()); // closing stdin stops the server
            let _ = c.wait();
        }
    }

    /// The envelope record of each message received: recipients, login, whether over TLS.
    pub fn envelopes(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
            .collect()
    }

    /// Every message received so far, as (envelope recipients, raw text), in arrival order.
    pub fn messages(&self) -> Vec<(Vec<String>, String)> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let raw = std::fs::read_to_string(&p).unwrap_or_default();
                let env: serde_json::Value = std::fs::read_to_string(p.with_extension("json"))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                let to = env["to"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (to, raw)
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The DNS stub (`dns_stub.py`): answers TXT queries for the records it was given.
pub struct DnsStub {
    pub addr: std::net::SocketAddr,
    child: Child,
}

impl DnsStub {
    /// `records`: (name, TXT value) pairs.
    pub fn start(records: &[(&str, &str)]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/dns_stub.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script);
        for (name, value) in records {
            cmd.arg("--txt").arg(format!("{name}={value}"));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the DNS stub");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stub stdout"))
            .read_line(&mut line)
            .expect("read the stub's READY line");
        let port: u16 = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the DNS stub did not start: {line:?}"));
        Self {
            addr: ([127, 0, 0, 1], port).into(),
            child,
        }
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
