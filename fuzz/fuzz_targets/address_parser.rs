//! The address parser: an address it accepts is safe to show, parses again to itself,
//! and a list accepts exactly what its parts do.
#![no_main]

use usher::domain::Email;
use usher::domain::email::parse_address_list;
use usher::domain::sanitize::has_unsafe_chars;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Email::parse(s) {
        Ok(e) => {
            assert!(!has_unsafe_chars(e.display()), "{e:?}");
            assert!(!has_unsafe_chars(e.canonical()), "{e:?}");
            let again = Email::parse(e.canonical()).expect("the canonical form parses");
            assert_eq!(again.canonical(), e.canonical());
            assert!(e.canonical().ends_with(e.domain()));
        }
        Err(err) => assert!(!has_unsafe_chars(&err.to_string()), "{err}"),
    }
    match parse_address_list(s) {
        Ok(list) => {
            for e in list {
                assert!(!has_unsafe_chars(e.display()), "{e:?}");
            }
        }
        Err(errs) => {
            for e in errs {
                assert!(!has_unsafe_chars(&e.to_string()), "{e}");
            }
        }
    }
});
