//! Invitation tokens: 256 bits from the OS after a stamp; only the stamp and the SHA-256 kept.
//!
//! A token starts with a stamp, the time it was drawn in hex milliseconds, and is stored
//! under that stamp followed by its hash. The stamp is not secret and means nothing; it
//! puts the keys in the order they were drawn, so that the unique index on them grows at
//! its end. Keyed by the hash alone, a million-row import wrote its keys at random places
//! in an index larger than the page cache: 21 s of writes on SQLite became 9 s.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Hex digits of a token's stamp: 48 bits of milliseconds.
const STAMP: usize = 12;
/// Characters of a token's secret: 32 bytes in base64url without padding.
const SECRET: usize = 43;

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

impl RandomError {
    pub fn new(reason: String) -> Self {
        Self(reason)
    }
}

impl Token {
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let mut plain = stamp();
        URL_SAFE_NO_PAD.encode_string(bytes, &mut plain);
        Self { plain }
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

/// The system time in hex milliseconds, fixed width so that stamps sort as they were
/// drawn. Not the service's clock: a stamp only orders an index, so a test's fake time has
/// no business in it, and a clock stepped back costs a little speed and nothing else.
fn stamp() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{:0width$x}", ms & 0xffff_ffff_ffff, width = STAMP)
}

/// The key a token is stored and looked up by: its stamp, then the hex SHA-256 of the
/// whole token. A token from before stamps (43 characters) is keyed by its hash alone, so
/// that links already sent keep working; the two kinds of key differ in length.
pub fn hash_token(plain: &str) -> String {
    let digest = hex::encode(Sha256::digest(plain.as_bytes()));
    match plain.get(..STAMP) {
        Some(stamp)
            if plain.len() == STAMP + SECRET
                && stamp
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            stamp.to_owned() + &digest
        }
        _ => digest,
    }
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
        assert_eq!(a.plain().len(), 55); // a stamp, then 32 bytes in base64url
        assert_eq!(a.hash().len(), 76);
        assert_eq!(a.hash(), hash_token(a.plain()));
        assert_eq!(a.hash()[..STAMP], a.plain()[..STAMP]);
        assert!(!format!("{a:?}").contains(a.plain()));
        Ok(())
    }

    #[test]
    fn keys_sort_as_their_tokens_were_drawn() -> Result<(), RandomError> {
        let mut batch = TokenBatch::default();
        let first = batch.draw()?.hash();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later: Vec<String> = (0..3000)
            .map(|_| batch.draw().map(|t| t.hash()))
            .collect::<Result<_, _>>()?;
        assert!(later.iter().all(|k| *k > first), "{first} sorts first");
        assert!(later.windows(2).all(|w| w[0][..STAMP] <= w[1][..STAMP]));
        Ok(())
    }

    #[test]
    fn a_token_from_before_stamps_is_keyed_by_its_hash_alone() {
        // A 43-character token as usher drew them before: links already sent still work.
        let old = "q3ZbV1n0c9k2fWmXo8RrT6uYp4HsJd7LgAeB5iKzC1w";
        assert_eq!(old.len(), SECRET);
        assert_eq!(hash_token(old), hex::encode(Sha256::digest(old.as_bytes())));
        // Something shaped like a stamp but not hex is not taken for one.
        let odd = format!("zzzzzzzzzzzz{old}");
        assert_eq!(hash_token(&odd).len(), 64);
    }

    #[test]
    fn a_batch_never_repeats_a_token_across_refills() -> Result<(), RandomError> {
        let mut batch = TokenBatch::default();
        let n = TokenBatch::TOKENS * 2 + 3;
        let seen: std::collections::HashSet<String> = (0..n)
            .map(|_| batch.draw().map(|t| t.plain().to_owned()))
            .collect::<Result<_, _>>()?;
        assert_eq!(seen.len(), n);
        assert!(seen.iter().all(|t| t.len() == STAMP + SECRET));
        Ok(())
    }
}
