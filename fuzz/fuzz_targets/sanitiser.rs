//! The text sanitiser: what it returns for the screen or a header never holds a control,
//! C1 or bidi character, and safe text passes through unchanged.
#![no_main]

use usher::domain::sanitize::{escape_for_display, has_unsafe_chars, single_line};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let shown = escape_for_display(&s);
    assert!(!has_unsafe_chars(&shown), "{shown:?}");
    let line = single_line(&s);
    assert!(!has_unsafe_chars(&line), "{line:?}");
    // One line: the only white space left is single spaces between words.
    assert!(line.chars().all(|c| c == ' ' || !c.is_whitespace()), "{line:?}");
    assert!(!line.contains("  "), "{line:?}");
    assert_eq!(line.trim(), line, "no white space at the ends");
    if !has_unsafe_chars(&s) {
        assert_eq!(shown, s, "safe text is shown as it is");
    }
});
