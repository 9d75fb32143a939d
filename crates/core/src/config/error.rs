//! What goes wrong reading the configuration, naming the file, key or secret.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause follows in the error's chain: not repeated here.
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot read secret file {path} (for {key})")]
    Secret {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no home directory to put usher's data in; set USHER_DATA_DIR")]
    NoDataDir,
    #[error("{key}: {reason}")]
    Value { key: &'static str, reason: String },
}
