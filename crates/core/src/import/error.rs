//! The import's errors: a file that cannot be read at all.

/// Why a file cannot be read at all. Faults in single rows are `RowError`s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: {reason}")]
    Corrupt { file: String, reason: String },
    #[error("{file}: {reason}")]
    TooLarge { file: String, reason: String },
    #[error("{file}: {reason}")]
    Encoding { file: String, reason: String },
    #[error("{file}, row {row}: {reason}")]
    Csv {
        file: String,
        row: u64,
        reason: String,
    },
    #[error("{file}: {reason}")]
    Sheet { file: String, reason: String },
    /// The columns could not be matched; `headers` are the file's, for a mapping.
    #[error("{file}: {reason}")]
    Mapping {
        file: String,
        reason: String,
        headers: Vec<String>,
    },
}
