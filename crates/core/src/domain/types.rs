//! Small closed sets of states, stored as lower-case text in both backends.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: stringify!($name),
                        got: s.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("'{got}' is not a valid {what}; expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static [&'static str],
}

text_enum!(
    /// Professional users are licensed (seats); guests are free and unlimited
    /// (docs/rules.md#users).
    UserType { Professional => "professional", Guest => "guest" }
);

/// Who is invited without saying otherwise takes a licence.
impl Default for UserType {
    fn default() -> Self {
        Self::Professional
    }
}

text_enum!(UserStatus { Active => "active", Suspended => "suspended" });

text_enum!(
    /// `Expired` is never stored: it is a pending invitation whose time has run out.
    InvitationStatus {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Expired => "expired",
        Revoked => "revoked",
    }
);

text_enum!(
    /// State of an outbox message. `Cancelled` is a message superseded before it left
    /// (a resend or revoke while it was still queued), so an old link is never mailed.
    DeliveryState {
        Queued => "queued",
        Sent => "sent",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl InvitationStatus {
    /// The status a person sees, from the stored one and the clock.
    pub fn effective(stored: &str, expires_at: i64, now: i64) -> Result<Self, UnknownValue> {
        let s: Self = stored.parse()?;
        Ok(if s == Self::Pending && expires_at <= now {
            Self::Expired
        } else {
            s
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_choices() {
        for t in UserType::ALL {
            assert_eq!(t.as_str().parse::<UserType>().ok(), Some(*t));
        }
        let err = "boss".parse::<UserType>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("'boss' is not a valid UserType; expected one of: professional, guest")
        );
    }

    #[test]
    fn pending_past_expiry_is_expired() {
        assert_eq!(
            InvitationStatus::effective("pending", 10, 10).ok(),
            Some(InvitationStatus::Expired)
        );
        assert_eq!(
            InvitationStatus::effective("pending", 11, 10).ok(),
            Some(InvitationStatus::Pending)
        );
        assert_eq!(
            InvitationStatus::effective("revoked", 1, 10).ok(),
            Some(InvitationStatus::Revoked)
        );
    }
}
