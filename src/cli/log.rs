//! Where log lines go: standard error, except while the console owns the terminal, when
//! they go to `usher.log` in the data directory (or nowhere, if it cannot be opened). A
//! line written to the terminal under the console would land over its screen and stay.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;

enum Target {
    Stderr,
    File(File),
    Nowhere,
}

static TARGET: Mutex<Target> = Mutex::new(Target::Stderr);
/// Lines written away from the terminal since the console opened, to tell on leaving.
static LINES: AtomicU64 = AtomicU64::new(0);

fn target() -> MutexGuard<'static, Target> {
    TARGET.lock().unwrap_or_else(|e| e.into_inner())
}

/// The subscriber's writer: the log file while the console runs, else standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Switch;

/// One log line's writer, chosen when the line began.
#[derive(Debug)]
pub struct Writer {
    to_terminal: bool,
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut t = target();
        match (&mut *t, self.to_terminal) {
            (Target::Stderr, true) => std::io::stderr().write(buf),
            (Target::File(f), false) => {
                LINES.fetch_add(1, Ordering::Relaxed);
                f.write(buf)
            }
            // The target changed since the line began, or there is none: dropped
            // rather than written over a screen the console may own.
            _ => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *target() {
            Target::Stderr => std::io::stderr().flush(),
            Target::File(f) => f.flush(),
            Target::Nowhere => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for Switch {
    type Writer = Writer;
    fn make_writer(&'a self) -> Writer {
        Writer {
            to_terminal: matches!(*target(), Target::Stderr),
        }
    }
}

/// Sends log lines to `dir/usher.log` (appended) until `to_stderr`.
pub fn to_file(dir: &Path) -> PathBuf {
    let path = dir.join("usher.log");
    let opened = std::fs::create_dir_all(dir)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(&path));
    *target() = match opened {
        Ok(f) => Target::File(f),
        Err(_) => Target::Nowhere,
    };
    LINES.store(0, Ordering::Relaxed);
    path
}

/// Back to standard error; how many lines went to the file meanwhile.
pub fn to_stderr() -> u64 {
    *target() = Target::Stderr;
    LINES.load(Ordering::Relaxed)
}
