//! Passwords: argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane), a fresh salt
//! each; the PHC string is all that is stored.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::config::Secret;

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

#[cfg(test)]
mod tests {
    use super::*;

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
