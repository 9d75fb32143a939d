//! What every reader target checks of a file the fuzzer made: it is read or refused,
//! never a panic or a hang, and nothing it says carries a control character.

use std::io::Write;

use usher::domain::sanitize::has_unsafe_chars;
use usher::import::{ReadOptions, parse_file};

/// Writes `data` to a file of this process's own with extension `ext` (the readers
/// take paths, as usher does) and reads it as an import.
pub fn read_as(data: &[u8], ext: &str) {
    let path = std::env::temp_dir().join(format!("usher-fuzz-{}.{ext}", std::process::id()));
    let mut f = std::fs::File::create(&path).expect("temp file");
    f.write_all(data).expect("write temp file");
    drop(f);
    match parse_file(&path, &ReadOptions::default(), &[]) {
        Ok(parsed) => {
            for r in &parsed.rows {
                // A row that passed validation is safe to show as it is.
                assert!(!has_unsafe_chars(r.email.display()), "{:?}", r.email);
                assert!(!has_unsafe_chars(&r.first_name), "{:?}", r.first_name);
                assert!(!has_unsafe_chars(&r.last_name), "{:?}", r.last_name);
                if let Some(u) = &r.unique_ref {
                    assert!(!has_unsafe_chars(u), "{u:?}");
                }
            }
            for e in &parsed.errors {
                assert!(!has_unsafe_chars(&e.to_string()), "{e}");
            }
        }
        Err(e) => assert!(!has_unsafe_chars(&e.to_string()), "{e}"),
    }
}
