//! What a report cell may hold. A spreadsheet reads a CSV cell that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return as a formula (OWASP "CSV injection"); such a cell
//! gets a leading `'`, which every spreadsheet shows as text. Control and bidi characters
//! are escaped visibly, so a hostile name cannot hide what it is.

use crate::domain::sanitize::escape_for_display;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell's text, safe to open in a spreadsheet.
pub fn safe_cell(value: &str) -> String {
    let shown = escape_for_display(value);
    // Checked on the raw value too: a leading tab is escaped above, but say why.
    if value.starts_with(FORMULA_START) || shown.starts_with(FORMULA_START) {
        format!("'{shown}")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_and_controls_are_defused() {
        for hostile in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            let c = safe_cell(hostile);
            assert!(c.starts_with('\''), "{hostile:?} -> {c:?}");
            assert!(!c.chars().any(char::is_control), "{c:?}");
        }
        assert_eq!(safe_cell("Ann Lee"), "Ann Lee");
        assert_eq!(safe_cell("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(safe_cell("O'Brien"), "O'Brien");
    }
}
