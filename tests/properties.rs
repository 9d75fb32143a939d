//! Property tests (issue 8): whatever text arrives, what usher shows, logs, puts in a
//! header or a report cell never carries a control, C1 or bidi character, and a report
//! cell never starts as a formula.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use usher::domain::sanitize::{escape_for_display, is_unsafe_char, single_line};
use usher::report::safe_cell;

/// Strings rich in what attacks terminals and spreadsheets: escapes, C1, bidi overrides,
/// formula starts, line breaks, and ordinary text.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{1b}[31m".to_owned()),
        Just("\u{9b}2J".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{2066}".to_owned()),
        Just("\u{200f}".to_owned()),
        Just("\r\n".to_owned()),
        Just("\t".to_owned()),
        Just("\u{0}".to_owned()),
        Just("=".to_owned()),
        Just("+".to_owned()),
        Just("-".to_owned()),
        Just("@".to_owned()),
        Just("\u{feff}".to_owned()),
        "[a-zA-Z0-9 ]{0,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn shown_text_never_acts_on_a_terminal(s in hostile()) {
        let shown = escape_for_display(&s);
        prop_assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
    }

    #[test]
    fn a_header_or_log_value_is_one_clean_line(s in hostile()) {
        let line = single_line(&s);
        prop_assert!(!line.chars().any(|c| is_unsafe_char(c) || c == '\n' || c == '\r'), "{line:?}");
        prop_assert_eq!(line.trim(), line.as_str());
    }

    #[test]
    fn a_report_cell_is_never_a_formula(s in hostile()) {
        let cell = safe_cell(&s);
        prop_assert!(!cell.chars().any(char::is_control), "{cell:?}");
        let first = cell.chars().next();
        prop_assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
            "{cell:?} from {s:?}"
        );
    }

    #[test]
    fn a_subject_is_one_line_of_at_most_256(s in hostile()) {
        let subject = usher::mail::template::clamp_subject(&s);
        prop_assert!(subject.chars().count() <= 256);
        prop_assert!(!subject.chars().any(|c| is_unsafe_char(c) || c == '\n'));
    }
}
