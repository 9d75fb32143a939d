//! Pure types and rules: no I/O, no async, no terminal.

pub mod actor;
pub mod clock;
pub mod email;
pub mod licence;
pub mod mac;
pub mod password;
pub mod permission;
pub mod sanitize;
pub mod secret;
pub mod token;
pub mod types;

pub use actor::{Actor, Channel};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use email::{Email, EmailError, parse_address_list};
pub use permission::{Permission, Scope};
pub use secret::Secret;
pub use token::Token;
pub use types::{DeliveryState, InvitationStatus, UserStatus, UserType};

/// How many days an invitation's link may work: the account's default and one
/// invitation's own alike. Longer than a year is a forgotten link, not an invitation.
pub const VALIDITY_DAYS: std::ops::RangeInclusive<i64> = 1..=365;

/// "from 1 to 365", for the messages that refuse a validity.
pub fn validity_days_said() -> String {
    format!("from {} to {}", VALIDITY_DAYS.start(), VALIDITY_DAYS.end())
}
