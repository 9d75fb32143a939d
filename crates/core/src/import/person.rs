//! The strings an import compares for each person, a row of the file or a user of the
//! account alike, in one heap block (see `packed`).

use super::packed::Packed;

/// Canonical address, address as typed (kept only when it differs), first name, last
/// name and unique reference (empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person(Packed<4>);

impl Person {
    pub fn new(
        email: &str,
        email_display: &str,
        first_name: &str,
        last_name: &str,
        unique_ref: Option<&str>,
    ) -> Self {
        let display = if email_display == email {
            ""
        } else {
            email_display
        };
        Self(Packed::new(&[
            email,
            display,
            first_name,
            last_name,
            unique_ref.unwrap_or_default(),
        ]))
    }

    /// The canonical address: what users are matched on.
    pub fn email(&self) -> &str {
        self.0.get(0)
    }

    /// The address as typed.
    pub fn email_display(&self) -> &str {
        match self.0.get(1) {
            "" => self.email(),
            d => d,
        }
    }

    /// The ASCII domain of the canonical address.
    pub fn domain(&self) -> &str {
        self.email()
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
    }

    pub fn first_name(&self) -> &str {
        self.0.get(2)
    }

    pub fn last_name(&self) -> &str {
        self.0.get(3)
    }

    /// None for an empty reference too: one cannot be matched on.
    pub fn unique_ref(&self) -> Option<&str> {
        Some(self.0.get(4)).filter(|r| !r.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_as_typed_and_the_reference_read_back() {
        let p = Person::new("zoë@x.org", "Zoë@X.org", "Zoë", "Ó Briain", Some("E-1"));
        assert_eq!((p.email(), p.email_display()), ("zoë@x.org", "Zoë@X.org"));
        assert_eq!(
            (p.first_name(), p.last_name(), p.unique_ref()),
            ("Zoë", "Ó Briain", Some("E-1"))
        );
        assert_eq!(p.domain(), "x.org");
        let same = Person::new("ann@x.org", "ann@x.org", "", "", Some(""));
        assert_eq!(same.email_display(), "ann@x.org");
        // An empty reference matches nothing, so it counts as none.
        assert_eq!(same.unique_ref(), None);
    }
}
