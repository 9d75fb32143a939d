//! Passwords: argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane), a fresh salt
//! each; the PHC string is all that is stored.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::Secret;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

pub fn hash_password(password: &Secret) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Only this much of a password is scored: zxcvbn's matching grows faster than the
/// length, and anything longer is out of a guesser's reach anyway.
const SCORED_CHARS: usize = 100;

/// Why a password is too easy to guess, or None. It is refused when it is on the
/// organisation's own list, contains the person's name or address (`context`), or scores
/// under 3 of 4 with zxcvbn, whose bundled lists of common passwords (from leaked-password
/// corpora), words and names it is matched against; a match on the common-password list
/// is named as such.
pub fn weakness(
    password: &str,
    context: &[&str],
    banned: &std::collections::HashSet<String>,
) -> Option<String> {
    if banned.contains(&password.trim().to_lowercase()) {
        return Some("is on this organisation's list of banned passwords".into());
    }
    // zxcvbn scores "annlee2024!!" as strong even when told the name is Ann Lee; a
    // password built on one's own name or address is refused outright.
    let squash = |t: &str| -> String {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let flat = squash(password);
    if context
        .iter()
        .map(|c| squash(c))
        .any(|c| c.chars().count() >= 4 && flat.contains(&c))
    {
        return Some("must not contain your name or address".into());
    }
    let scored: String = password.chars().take(SCORED_CHARS).collect();
    let e = zxcvbn::zxcvbn(&scored, context);
    if e.score() >= zxcvbn::Score::Three {
        return None;
    }
    use zxcvbn::feedback::Warning as W;
    let warning = e.feedback().and_then(|f| f.warning());
    if matches!(
        warning,
        Some(
            W::ThisIsATop10Password
                | W::ThisIsATop100Password
                | W::ThisIsACommonPassword
                | W::ThisIsSimilarToACommonlyUsedPassword
        )
    ) {
        return Some("is on a list of commonly used passwords".into());
    }
    Some(match warning {
        Some(w) => format!("is too easy to guess ({w})"),
        None => "is too easy to guess".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        let none = std::collections::HashSet::new();
        for weak in [
            "password1234",
            "Password123!",
            "qwertyuiop12",
            "iloveyou2024",
            "aaaaaaaaaaaaaaaa",
            "123456789012",
        ] {
            assert!(weakness(weak, &[], &none).is_some(), "{weak} accepted");
        }
        let ctx = ["ann.lee@acme.test", "ann.lee", "Ann", "Lee", "Ann Lee"];
        for own in ["annlee2024!!", "Ann-Lee-Rocks-77", "xx-ann.lee@acme.test"] {
            let w = weakness(own, &ctx, &none).unwrap_or_default();
            assert!(w.contains("name or address"), "{own}: {w}");
        }
        assert_eq!(weakness("tawny-banner-quarry-88", &ctx, &none), None);
        let banned = ["acme-secure-mail".to_owned()].into();
        assert!(weakness("Acme-Secure-Mail", &[], &banned).is_some());
        for strong in ["tawny-quarry-lemon-88", "Gx7#pL2!vQ9rZt4w"] {
            assert_eq!(weakness(strong, &[], &none), None, "{strong}");
        }
        // 1000 characters, scored quickly (only a prefix goes to zxcvbn) and accepted.
        let mut x: u32 = 7;
        let long: String = (0..1000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from(b'!' + ((x >> 16) % 90) as u8)
            })
            .collect();
        assert_eq!(weakness(&long, &[], &none), None);
    }

    #[test]
    fn hashes_with_argon2id_and_verifies() -> Result<(), HashError> {
        let h = hash_password(&Secret::new("Correct-horse-9"))?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("Correct-horse-9"));
        assert!(verify_password("Correct-horse-9", &h));
        assert!(!verify_password("correct-horse-9", &h));
        assert_ne!(
            h,
            hash_password(&Secret::new("Correct-horse-9"))?,
            "a fresh salt each time"
        );
        Ok(())
    }
}
