//! Why a message did not go.

/// Why a message did not go, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Connection refused or lost, a 4xx reply, a timeout: try again later.
    #[error("{0}")]
    Transient(String),
    /// A 5xx reply or a message the relay will never take.
    #[error("{0}")]
    Permanent(String),
}
