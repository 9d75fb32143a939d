//! The server's own errors, beside the core's: what stops it serving at all.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Core(#[from] usher_core::Error),
    /// The listening socket could not be set up, or serving on it failed.
    #[error("enrolment server: {0}")]
    Listen(#[source] std::io::Error),
    /// The certificate or key named for HTTPS could not be read or used.
    #[error("enrolment server: TLS certificate {} or key {}: {reason}", cert.display(), key.display())]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}
