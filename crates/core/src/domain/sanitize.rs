//! Untrusted text (names, subjects, file contents) must never carry control, C1,
//! bidirectional-override or invisible characters into a terminal, a log or a mail
//! header (docs/text.md).

/// True for characters that can move a cursor, change colours, reorder text, hide in
/// it (zero width) or otherwise act on the terminal or a header rather than be shown.
/// ZWNJ (U+200C) is left alone: Persian and Indic names need it between letters.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c,
            '\u{00AD}'                        // soft hyphen
            | '\u{180E}'                      // Mongolian vowel separator
            | '\u{200B}'                      // zero-width space
            | '\u{200D}'                      // zero-width joiner
            | '\u{2060}'..='\u{2064}'          // word joiner, invisible operators
            | '\u{FFF9}'..='\u{FFFB}'          // interlinear annotation
            | '\u{200E}' | '\u{200F}'            // LRM, RLM
            | '\u{202A}'..='\u{202E}'          // LRE, RLE, PDF, LRO, RLO
            | '\u{2066}'..='\u{2069}'          // LRI, RLI, FSI, PDI
            | '\u{061C}'                       // Arabic letter mark
            | '\u{2028}' | '\u{2029}'          // line and paragraph separators
            | '\u{FEFF}'                       // BOM / zero-width no-break space
        )
}

/// True when the text holds anything `is_unsafe_char` refuses.
pub fn has_unsafe_chars(s: &str) -> bool {
    s.chars().any(is_unsafe_char)
}

/// For display: each unsafe character is shown as a visible escape (`\u{1b}`), so that
/// an operator sees that something odd is there without the terminal acting on it.
pub fn escape_for_display(s: &str) -> String {
    if !has_unsafe_chars(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// For a single-line field (a header, a log value): unsafe characters dropped and
/// runs of white space folded into one space.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if !is_unsafe_char(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences() {
        let s = "Eve\u{1b}[31mRed\u{7}\u{202E}";
        let e = escape_for_display(s);
        assert_eq!(e, "Eve\\u{1b}[31mRed\\u{7}\\u{202e}");
        assert!(!has_unsafe_chars(&e));
    }

    #[test]
    fn invisible_characters_are_unsafe_and_shown() {
        for c in [
            '\u{200B}', '\u{2060}', '\u{00AD}', '\u{200D}', '\u{202E}', '\u{FEFF}',
        ] {
            assert!(is_unsafe_char(c), "{c:?}");
        }
        assert_eq!(
            escape_for_display("carl\u{200B}@x.org"),
            "carl\\u{200b}@x.org"
        );
        assert!(!is_unsafe_char('\u{200C}'), "ZWNJ is part of Persian names");
    }

    #[test]
    fn single_line_folds_and_drops() {
        assert_eq!(single_line("  Hello\r\n  World\u{9b}!\t "), "Hello World!");
        assert_eq!(single_line("a\u{1b}b"), "ab");
        assert_eq!(single_line("Zoë Ørsted"), "Zoë Ørsted");
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(escape_for_display("José Ñúñez £"), "José Ñúñez £");
    }
}
