//! Pure types and rules: no I/O, no async, no terminal.

pub mod actor;
pub mod clock;
pub mod email;
pub mod licence;
pub mod password;
pub mod permission;
pub mod sanitize;
pub mod token;
pub mod types;

pub use actor::Actor;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use email::{Email, EmailError, parse_address_list};
pub use permission::{Permission, Scope};
pub use token::Token;
pub use types::{DeliveryState, InvitationStatus, UserStatus, UserType};
