//! usher: invite, enrol and manage the users of a self-hosted secure mail platform.
//!
//! The library is the UI-free core: domain rules, storage, mail and use cases. The
//! binary's command line, the console (`tui`) and the enrolment server (`serve`) call it.

pub mod config;
pub mod dns;
pub mod domain;
pub mod error;
pub mod import;
pub mod mail;
pub mod report;
pub mod serve;
pub mod service;
pub mod store;
pub mod tui;

pub use error::{Error, Result};
pub use service::Usher;

/// mimalloc instead of the system allocator: an import holds millions of small strings,
/// and glibc's 16-byte headers and coarse size classes cost about a third of the memory
/// on top of the text itself. Set here, so tests and benchmarks measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
