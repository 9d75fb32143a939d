//! Directory sync (docs/sync.md): Active Directory and OpenLDAP read over LDAP into the
//! same rows a file import reads, so that a run goes through the import's plan, apply
//! and undo. Reading lives here; runs, limits and approval are use cases in
//! `service::sync`.

pub mod entries;
mod error;
pub mod ldap;

pub use entries::{Rows, changed_since, rows};
pub use error::DirectoryError;
pub use ldap::{Entry, Read, normal_dn, read};
