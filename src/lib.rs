//! usher: invite, enrol and manage the users of a self-hosted secure mail platform.
//!
//! The workspace's crates under one name, for the binary, the tests and the benchmarks:
//! the UI-free core (`usher-core`), the console (`tui`, `usher-console`) and the
//! enrolment server (`serve`, `usher-serve`). The command line is the binary's own.

pub use usher_console as tui;
pub use usher_core::{Clash, Error, Kind, Result, Usher};
pub use usher_core::{
    config, dns, domain, error, import, mail, mailserver, report, service, store, sync,
};
pub use usher_serve as serve;

/// mimalloc instead of the system allocator: an import holds millions of small strings,
/// and glibc's 16-byte headers and coarse size classes cost about a third of the memory
/// on top of the text itself. Set here, so tests and benchmarks measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
