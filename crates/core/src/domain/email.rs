//! E-mail addresses: validated, canonicalised for uniqueness, kept as typed for display.

use std::fmt;
use std::str::FromStr;

use email_address::{EmailAddress, Options};

use super::sanitize::has_unsafe_chars;

/// An address that passed validation.
///
/// `canonical` is what uniqueness is decided on: the whole address lowercased and an
/// internationalised domain in its ASCII (punycode) form. Mail systems in practice treat
/// `Bob@x.org` and `bob@x.org` as one mailbox, and a tool that lets both in creates two
/// users for one person. `display` is the address as the operator typed it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email {
    canonical: Box<str>,
    /// None when the operator typed the canonical form (most lists): one allocation
    /// instead of two, which counts at a million rows.
    display: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the address is empty")]
    Empty,
    #[error("'{0}' contains control or invisible characters")]
    UnsafeChars(String),
    #[error("'{0}' is not an e-mail address: {1}")]
    Invalid(String, String),
    #[error("'{0}' has a domain that cannot be encoded: {1}")]
    BadDomain(String, String),
    #[error("'{0}' is longer than 254 characters")]
    TooLong(String),
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        // One form for what looks alike: an address typed or exported decomposed (NFD)
        // is the same address as its composed form, and compares so.
        use unicode_normalization::UnicodeNormalization;
        let composed: String = input.trim().nfc().collect();
        let typed = composed.as_str();
        if typed.is_empty() {
            return Err(EmailError::Empty);
        }
        if has_unsafe_chars(typed) {
            return Err(EmailError::UnsafeChars(
                super::sanitize::escape_for_display(typed),
            ));
        }
        // Display names, comments and quoted forms are refused: an invitation goes to one
        // bare mailbox, and "Bob <bob@x.org>" pasted into a form is a mistake to point out.
        let options = Options::default()
            .without_display_text()
            .without_domain_literal();
        let parsed = EmailAddress::parse_with_options(typed, options)
            .map_err(|e| EmailError::Invalid(typed.to_owned(), e.to_string()))?;
        let local = parsed.local_part();
        let domain = parsed.domain();
        if !domain.contains('.') {
            return Err(EmailError::Invalid(
                typed.to_owned(),
                "the domain has no dot".to_owned(),
            ));
        }
        // Strict: a mail domain is a host name (letters, digits, hyphens), and each label
        // must fit DNS's 63 octets once in punycode, which a short Unicode label may not
        // (found by fuzzing: the canonical form did not parse again).
        let ascii_domain = idna::domain_to_ascii_strict(domain).map_err(|_| {
            EmailError::BadDomain(
                typed.to_owned(),
                "not a valid host name (letters, digits and hyphens, labels of at most 63 \
                 characters once encoded)"
                    .to_owned(),
            )
        })?;
        let canonical = format!("{}@{}", local.to_lowercase(), ascii_domain);
        if canonical.len() > 254 {
            return Err(EmailError::TooLong(typed.to_owned()));
        }
        Ok(Self {
            display: (typed != canonical).then(|| typed.into()),
            canonical: canonical.into_boxed_str(),
        })
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    pub fn display(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.canonical)
    }

    /// The ASCII domain part of the canonical address.
    pub fn domain(&self) -> &str {
        self.canonical
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.canonical)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display())
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Splits what an operator typed into a To field (commas, semicolons, spaces or new
/// lines) and validates each part. Empty parts (a trailing comma) are ignored; every bad part is
/// reported, not just the first, so one correction fixes the whole field.
pub fn parse_address_list(input: &str) -> Result<Vec<Email>, Vec<EmailError>> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    // Addresses are bare mailboxes (no spaces), so whitespace separates them as commas
    // and semicolons do: a pasted column or a line of several works either way.
    for part in input.split([',', ';', '\n', '\r', ' ', '\t']) {
        if part.trim().is_empty() {
            continue;
        }
        match Email::parse(part) {
            Ok(e) => {
                if !good.iter().any(|g: &Email| g.canonical == e.canonical) {
                    good.push(e);
                }
            }
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    if good.is_empty() {
        return Err(vec![EmailError::Empty]);
    }
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_case_and_idn() -> Result<(), EmailError> {
        let e = Email::parse("  Zoë.Smith@Bücher.Example ")?;
        assert_eq!(e.canonical(), "zoë.smith@xn--bcher-kva.example");
        assert_eq!(e.display(), "Zoë.Smith@Bücher.Example");
        assert_eq!(e.domain(), "xn--bcher-kva.example");
        Ok(())
    }

    #[test]
    fn refuses_bad_addresses() {
        for bad in [
            "bob@",
            "@x.org",
            "bob",
            "bob@localhost",
            "Bob <bob@x.org>",
            "bob@x.org\r\nBcc: eve@y.org",
            "bo b@x.org",
            "bob@[127.0.0.1]",
            "bob@x'y}.org",
            "bob@-x.org",
            // A Unicode label of 62 characters whose punycode is over 63 (from fuzzing).
            "-@e\u{2d3}.e\u{2d3}yOOOOO''}}}}''OOOOOOOOOOOOOCOOOOOOOOOO",
            &format!("a@{}.org", "é".repeat(60)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn splits_on_commas_and_semicolons() {
        let list = parse_address_list("a@x.org, b@x.org;c@x.org;; A@X.org").map_err(|e| e.len());
        let list = list.unwrap_or_default();
        let got: Vec<_> = list.iter().map(Email::canonical).collect();
        assert_eq!(got, ["a@x.org", "b@x.org", "c@x.org"]);
    }

    #[test]
    fn reports_every_bad_part() {
        let errs = parse_address_list("a@x.org, nope, also@bad@x")
            .err()
            .unwrap_or_default();
        assert_eq!(errs.len(), 2);
        assert!(matches!(parse_address_list(" ; "), Err(e) if e == vec![EmailError::Empty]));
    }
}
