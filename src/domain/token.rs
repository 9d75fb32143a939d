//! Invitation tokens: 256 bits from the OS, only the SHA-256 kept.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A freshly drawn token. The plain text goes into the link and nowhere else.
pub struct Token {
    plain: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

impl Token {
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
        Ok(Self {
            plain: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            plain: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    pub fn plain(&self) -> &str {
        &self.plain
    }

    pub fn hash(&self) -> String {
        hash_token(&self.plain)
    }
}

/// Tokens drawn many at a time: one call to the OS per thousand tokens instead of one
/// each, for an import's million invitations. Each random byte is used once.
#[derive(Default)]
pub struct TokenBatch {
    pool: Vec<u8>,
    used: usize,
}

impl std::fmt::Debug for TokenBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenBatch(<redacted>)")
    }
}

impl TokenBatch {
    const TOKENS: usize = 1024;

    pub fn draw(&mut self) -> Result<Token, RandomError> {
        if self.used + 32 > self.pool.len() {
            self.pool.resize(32 * Self::TOKENS, 0);
            getrandom::fill(&mut self.pool).map_err(|e| RandomError(e.to_string()))?;
            self.used = 0;
        }
        let token = Token::from_bytes(&self.pool[self.used..self.used + 32]);
        self.used += 32;
        Ok(token)
    }
}

/// Hex SHA-256 of a token as it appears in a link.
pub fn hash_token(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// Hex SHA-256 of a file, read in chunks (an import's fingerprint in its history).
pub fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(hex::encode(h.finalize())),
            n => h.update(&buf[..n]),
        }
    }
}

/// Random hex for identifiers that must not collide (Message-IDs, lease owners).
pub fn random_hex(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(hex::encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() -> Result<(), RandomError> {
        let a = Token::generate()?;
        let b = Token::generate()?;
        assert_ne!(a.plain(), b.plain());
        assert_eq!(a.plain().len(), 43); // 32 bytes, base64url without padding
        assert_eq!(a.hash().len(), 64);
        assert_eq!(a.hash(), hash_token(a.plain()));
        assert!(!format!("{a:?}").contains(a.plain()));
        Ok(())
    }

    #[test]
    fn a_batch_never_repeats_a_token_across_refills() -> Result<(), RandomError> {
        let mut batch = TokenBatch::default();
        let n = TokenBatch::TOKENS * 2 + 3;
        let seen: std::collections::HashSet<String> = (0..n)
            .map(|_| batch.draw().map(|t| t.plain().to_owned()))
            .collect::<Result<_, _>>()?;
        assert_eq!(seen.len(), n);
        assert!(seen.iter().all(|t| t.len() == 43));
        Ok(())
    }
}
