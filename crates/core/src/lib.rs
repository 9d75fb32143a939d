//! usher's core: domain rules, configuration, import, storage, mail, reports and the use
//! cases the front ends call. It depends on no terminal, HTTP or command-line crate, so
//! the compiler keeps it free of them; the console (`usher-console`), the enrolment
//! server (`usher-serve`) and the command line (`usher`) sit on top of it.

pub mod config;
pub mod dns;
pub mod domain;
pub mod error;
pub mod import;
pub mod mail;
pub mod mailserver;
pub mod report;
pub mod service;
pub mod store;
pub mod sync;
mod tls;

pub use error::{Clash, Error, Kind, Result};
pub use service::Usher;
