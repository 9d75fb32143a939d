//! A request that failed, as the app receives it: what can be done about it (the core's
//! kind, so that nothing parses the words) and the words to show.

use usher_core::error::{Error, Kind};
use usher_core::import::ImportError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Kind,
    pub text: String,
}

impl Failure {
    pub fn new(kind: Kind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
        }
    }

    /// A file that cannot be read or whose columns were not recognised; the latter
    /// points at the mapping step, which the worker has given the file's columns.
    pub fn import(e: &ImportError) -> Self {
        match e {
            ImportError::Mapping { .. } => {
                Self::new(Kind::Invalid, format!("{e} (c maps the columns)"))
            }
            _ => Self::new(Kind::Invalid, e.to_string()),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<Failure> for String {
    fn from(f: Failure) -> Self {
        f.text
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
