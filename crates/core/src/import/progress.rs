//! How far a long import has got, for whoever shows it (a bar on the command line, a
//! gauge in the console). The core only counts; it knows nothing of how it is drawn.

use std::sync::Arc;

/// Rows between two reports: often enough to move a bar, rarely enough to cost nothing.
pub const EVERY: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Rows read and checked; the total is unknown until the end.
    Reading,
    /// Rows applied, of the rows that change something.
    Applying,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::Applying => "applying",
        }
    }
}

type Report = dyn Fn(Stage, u64, Option<u64>) + Send + Sync;

/// A callback for (stage, rows done, rows in all when known); none by default.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Report>>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

impl Progress {
    pub fn new(report: impl Fn(Stage, u64, Option<u64>) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(report)))
    }

    pub fn report(&self, stage: Stage, done: u64, total: Option<u64>) {
        if let Some(f) = &self.0 {
            f(stage, done, total);
        }
    }

    /// Reports every `EVERY` rows, and at the last one.
    pub fn tick(&self, stage: Stage, done: u64, total: Option<u64>) {
        if done.is_multiple_of(EVERY) || Some(done) == total {
            self.report(stage, done, total);
        }
    }
}
