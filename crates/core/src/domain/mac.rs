//! A secret key for HMAC-SHA-256: what proves a value was made by usher and not by whoever
//! can write where it is kept (a browser's cookie, a database row). Pure: the key's file is
//! read and written by the caller.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::token::RandomError;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;

/// A MAC key. Never printed.
#[derive(Clone)]
pub struct MacKey([u8; KEY_LEN]);

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

impl MacKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|e| RandomError::new(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The key written as hex (for its file), or None for text that is not one.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The hex HMAC-SHA-256 of `data`.
    pub fn sign(&self, data: &[u8]) -> String {
        hex::encode(self.mac(data).finalize().into_bytes())
    }

    /// Whether `tag` is `data`'s HMAC under this key, compared in constant time.
    pub fn verify(&self, data: &[u8], tag: &str) -> bool {
        match hex::decode(tag) {
            Ok(bytes) => self.mac(data).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) else {
            unreachable!("HMAC takes a key of any length")
        };
        m.update(data);
        m
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_tag_verifies_only_under_its_key_and_for_its_data() {
        let k = MacKey::generate().unwrap();
        let other = MacKey::generate().unwrap();
        let tag = k.sign(b"row 7");
        assert!(k.verify(b"row 7", &tag));
        assert!(!k.verify(b"row 8", &tag));
        assert!(!other.verify(b"row 7", &tag));
        assert!(!k.verify(b"row 7", "zz"));
        let again = MacKey::from_hex(&k.to_hex()).unwrap();
        assert!(again.verify(b"row 7", &tag));
        assert!(MacKey::from_hex("abcd").is_none());
        assert_eq!(format!("{k:?}"), "MacKey(<redacted>)");
    }
}
