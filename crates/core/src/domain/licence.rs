//! Licence seats (docs/rules.md#licences): professional users are paid for, guests are
//! free.

/// Seats used = active professional users + pending, unexpired professional invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Seats {
    pub used: i64,
    pub total: i64,
}

impl Seats {
    pub fn free(self) -> i64 {
        (self.total - self.used).max(0)
    }

    /// Whether `wanted` more professional seats fit.
    pub fn check(self, wanted: i64) -> Result<(), SeatsExhausted> {
        if wanted <= 0 || self.used + wanted <= self.total {
            Ok(())
        } else {
            Err(SeatsExhausted {
                seats: self,
                wanted,
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no professional licence free: the account has {} licence(s), {} in use (active professional users and pending professional invitations), {} free, and {} more were asked for; invite as guest, revoke a pending invitation, or add licences",
    seats.total, seats.used, seats.free(), wanted
)]
pub struct SeatsExhausted {
    pub seats: Seats,
    pub wanted: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_seats() {
        let s = Seats { used: 9, total: 10 };
        assert!(s.check(1).is_ok());
        let e = s.check(2).err();
        assert!(e.is_some_and(|e| e.to_string().contains("has 10 licence(s), 9 in use")));
        assert!(
            Seats {
                used: 12,
                total: 10
            }
            .check(0)
            .is_ok()
        );
        assert_eq!(
            Seats {
                used: 12,
                total: 10
            }
            .free(),
            0
        );
    }
}
