//! The audit chain's anchor outside the database (docs/audit.md#the-anchor): the chain's
//! start and its newest row's id and hash, signed with a key kept in a file the
//! database's users cannot read, written after every commit that extended the chain.
//! Someone who can only write the database can change rows, clear their hashes, delete
//! the newest or recompute the whole chain; none of that moves the anchor, so `usher audit
//! verify` sees it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::domain::mac::MacKey;

/// One signed checkpoint: the file's whole content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain's first row: rows from here on must carry a hash.
    pub start: i64,
    /// The newest row anchored, and its hash.
    pub row: i64,
    pub hash: String,
    /// When it was written (ms since the epoch).
    pub at: i64,
    pub mac: String,
}

impl Checkpoint {
    fn signed_text(start: i64, row: i64, hash: &str, at: i64) -> String {
        format!("usher audit anchor 1\n{start}\n{row}\n{hash}\n{at}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not an audit key (64 hex digits)", path.display())]
    BadKey { path: PathBuf },
    #[error(
        "{}: the anchor's signature does not verify: it was edited, or the key is not the one that wrote it",
        path.display()
    )]
    Forged { path: PathBuf },
    #[error("random: {0}")]
    Random(#[from] crate::domain::token::RandomError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AnchorError + '_ {
    move |source| AnchorError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The key and the anchor's file.
#[derive(Debug)]
pub struct Anchor {
    key: MacKey,
    path: PathBuf,
    /// The chain's start, as the database recorded it when the anchor was opened.
    start: i64,
    /// One process's commits advance the file one at a time.
    writing: Mutex<()>,
}

/// Reads the key at `key_file`, making one (mode 0600) when there is none.
pub fn load_or_create_key(key_file: &Path) -> Result<MacKey, AnchorError> {
    match std::fs::read_to_string(key_file) {
        Ok(text) => MacKey::from_hex(&text).ok_or_else(|| AnchorError::BadKey {
            path: key_file.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MacKey::generate()?;
            if let Some(dir) = key_file.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            let mut f = private_file(key_file, true).map_err(io(key_file))?;
            f.write_all(key.to_hex().as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io(key_file))?;
            Ok(key)
        }
        Err(e) => Err(io(key_file)(e)),
    }
}

/// A file only its owner may read or write; `new` refuses one that exists.
fn private_file(path: &Path, new: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).mode(0o600);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    o.open(path)
}

impl Anchor {
    pub fn new(key: MacKey, path: PathBuf, start: i64) -> Self {
        Self {
            key,
            path,
            start,
            writing: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint in the file, None when there is none yet; a checkpoint whose
    /// signature fails is an error, never believed.
    pub fn read(&self) -> Result<Option<Checkpoint>, AnchorError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        };
        let forged = || AnchorError::Forged {
            path: self.path.clone(),
        };
        let c: Checkpoint = serde_json::from_str(&text).map_err(|_| forged())?;
        let signed = Checkpoint::signed_text(c.start, c.row, &c.hash, c.at);
        if self.key.verify(signed.as_bytes(), &c.mac) {
            Ok(Some(c))
        } else {
            Err(forged())
        }
    }

    /// Moves the anchor to `row` with `hash`, unless it stands at that row or later
    /// already (another process got there first). Written whole to a new file and
    /// renamed over the old, so a crash leaves one or the other.
    pub fn advance(&self, row: i64, hash: &str, at: i64) -> Result<(), AnchorError> {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let start = match self.read() {
            Ok(Some(c)) if c.row >= row => return Ok(()),
            Ok(Some(c)) => c.start,
            Ok(None) => self.start,
            // A forged anchor is left for `verify` to find, not overwritten.
            Err(e) => return Err(e),
        };
        let mac = self
            .key
            .sign(Checkpoint::signed_text(start, row, hash, at).as_bytes());
        let c = Checkpoint {
            start,
            row,
            hash: hash.to_owned(),
            at,
            mac,
        };
        let text = serde_json::to_string(&c).unwrap_or_default();
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let mut f = private_file(&tmp, false).map_err(io(&tmp))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_anchor_moves_forward_only_and_refuses_an_edited_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create_key(&dir.path().join("audit.key")).unwrap();
        let again = load_or_create_key(&dir.path().join("audit.key")).unwrap();
        assert_eq!(key.to_hex(), again.to_hex(), "the key is kept");
        let a = Anchor::new(key, dir.path().join("audit.anchor"), 3);
        assert_eq!(a.read().unwrap(), None);
        a.advance(10, "h10", 1).unwrap();
        a.advance(7, "h7", 2).unwrap();
        let c = a.read().unwrap().unwrap();
        assert_eq!((c.start, c.row, c.hash.as_str()), (3, 10, "h10"));
        let edited = std::fs::read_to_string(a.path())
            .unwrap()
            .replace("h10", "h11");
        std::fs::write(a.path(), edited).unwrap();
        assert!(matches!(a.read(), Err(AnchorError::Forged { .. })));
        assert!(
            a.advance(12, "h12", 3).is_err(),
            "a forged anchor is not overwritten"
        );
    }
}
