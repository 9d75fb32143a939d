//! Passwords: argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane), a fresh salt
//! each; the PHC string is all that is stored.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::Secret;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

pub fn hash_password(password: &Secret) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Only this much of a password is scored: zxcvbn's matching grows faster than the
/// length, and anything longer is out of a guesser's reach anyway.
const SCORED_CHARS: usize = 100;

/// What a password is checked against besides the lists: the person's own words (their
/// names and address) and the organisation's (its name and its domains). Attackers try
/// both first.
#[derive(Debug, Default, Clone, Copy)]
pub struct Context<'a> {
    pub personal: &'a [&'a str],
    pub organisation: &'a [&'a str],
}

/// Words a guesser tries before any other, whatever the site: seasons, months, days,
/// greetings and the words people put in passwords, and the phrases too famous to be
/// secret. A password whose letters are only these (and the context's words), with a few
/// digits or symbols around them, is refused though zxcvbn may score it well
/// ("Summer2025Summer", "Welcome2024!!", "correcthorsebatterystaple").
const FIRST_TRIED: &[&str] = &[
    "welcome",
    "hello",
    "summer",
    "winter",
    "spring",
    "autumn",
    "fall",
    "password",
    "passwort",
    "pass",
    "word",
    "secret",
    "letmein",
    "changeme",
    "change",
    "default",
    "admin",
    "administrator",
    "root",
    "login",
    "user",
    "guest",
    "test",
    "temp",
    "qwerty",
    "azerty",
    "abc",
    "iloveyou",
    "love",
    "monkey",
    "dragon",
    "master",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "soccer",
    "shadow",
    "superman",
    "batman",
    "trustno",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "company",
    "office",
    "mail",
    "email",
    "secure",
    "new",
    "my",
    "the",
    "and",
    "is",
    "it",
    "correct",
    "horse",
    "battery",
    "staple",
    "happy",
    "christmas",
    "easter",
    "holiday",
    "year",
    "today",
];

/// Fewer other characters than this beside guessable words adds too little.
const FEW_OTHERS: usize = 8;

/// Why a password is too easy to guess, or None. It is refused when it is on the
/// organisation's own list; when it contains the person's name or address, or the
/// organisation's name or a domain; when its letters are only words a guesser tries first
/// (`FIRST_TRIED`, the context's words, also written with digits for letters) padded with
/// a few digits or symbols; or when zxcvbn, told the context, scores it under 3 of 4
/// against its bundled lists of common passwords (from leaked-password corpora), words and
/// names, a match on the common-password list being named as such.
pub fn weakness(
    password: &str,
    context: Context<'_>,
    banned: &std::collections::HashSet<String>,
) -> Option<String> {
    if banned.contains(&password.trim().to_lowercase()) {
        return Some("is on this organisation's list of banned passwords".into());
    }
    // zxcvbn scores "annlee2024!!" as strong even when told the name is Ann Lee; a
    // password built on one's own name or address, or the organisation's, is refused.
    let flat = squash(password);
    let contains = |words: &[&str]| {
        words
            .iter()
            .flat_map(|w| context_words(w))
            .any(|w| w.chars().count() >= 4 && flat.contains(&w))
    };
    if contains(context.personal) {
        return Some("must not contain your name or address".into());
    }
    if contains(context.organisation) {
        return Some("must not contain the organisation's name or domain".into());
    }
    // zxcvbn first: its words for a password on the common lists are the more exact.
    zxcvbn_weakness(password, context).or_else(|| {
        only_guessable_words(password, context).then(|| {
            "is made of words attackers try first (seasons, months, greetings, the \
             organisation's name) with a few digits or symbols"
                .into()
        })
    })
}

/// The text lowercased with only its letters and digits.
fn squash(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A context entry and its parts: "acme.example.org" gives itself, "acme", "example"; an
/// address itself and its local part's pieces (its domain is the organisation's).
fn context_words(entry: &str) -> Vec<String> {
    let mut out = vec![squash(entry)];
    let parts = entry.split_once('@').map_or(entry, |(local, _)| local);
    out.extend(
        parts
            .split(|c: char| !c.is_alphanumeric())
            .map(squash)
            .filter(|w| {
                !w.is_empty()
                    && !matches!(w.as_str(), "com" | "org" | "net" | "ltd" | "inc" | "gmbh")
            }),
    );
    out
}

/// Letters as a guesser writes them with digits and symbols: p@ssw0rd is password.
fn unleet(c: char) -> char {
    match c {
        '@' | '4' => 'a',
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => c,
    }
}

/// Whether the password's letters split wholly into guessable words (read plainly or with
/// digits for letters) and the rest is only a few characters.
fn only_guessable_words(password: &str, context: Context<'_>) -> bool {
    let mut words: Vec<String> = FIRST_TRIED.iter().map(|w| (*w).to_owned()).collect();
    for entry in context.personal.iter().chain(context.organisation) {
        words.extend(
            context_words(entry)
                .into_iter()
                .filter(|w| w.chars().count() >= 3),
        );
    }
    let lower = password.to_lowercase();
    let plain: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    let leet: String = lower
        .chars()
        .map(unleet)
        .filter(|c| c.is_alphabetic())
        .collect();
    [plain, leet].iter().any(|letters| {
        let others = lower.chars().count() - letters.chars().count();
        !letters.is_empty() && others < FEW_OTHERS && splits_into(letters, &words)
    })
}

/// Whether `text` is a run of `words` (each any number of times), by dynamic programming
/// over its byte positions.
fn splits_into(text: &str, words: &[String]) -> bool {
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for start in 0..text.len() {
        if !reach[start] || !text.is_char_boundary(start) {
            continue;
        }
        for w in words {
            if text[start..].starts_with(w.as_str()) {
                reach[start + w.len()] = true;
            }
        }
    }
    reach[text.len()]
}

fn zxcvbn_weakness(password: &str, context: Context<'_>) -> Option<String> {
    let scored: String = password.chars().take(SCORED_CHARS).collect();
    let inputs: Vec<&str> = context
        .personal
        .iter()
        .chain(context.organisation)
        .copied()
        .collect();
    let e = zxcvbn::zxcvbn(&scored, &inputs);
    if e.score() >= zxcvbn::Score::Three {
        return None;
    }
    use zxcvbn::feedback::Warning as W;
    let warning = e.feedback().and_then(|f| f.warning());
    if matches!(
        warning,
        Some(
            W::ThisIsATop10Password
                | W::ThisIsATop100Password
                | W::ThisIsACommonPassword
                | W::ThisIsSimilarToACommonlyUsedPassword
        )
    ) {
        return Some("is on a list of commonly used passwords".into());
    }
    Some(match warning {
        Some(w) => format!("is too easy to guess ({w})"),
        None => "is too easy to guess".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(password: &str, context: Context<'_>) -> Option<String> {
        weakness(password, context, &std::collections::HashSet::new())
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        let none = Context::default();
        for weak_one in [
            "password1234",
            "Password123!",
            "qwertyuiop12",
            "iloveyou2024",
            "aaaaaaaaaaaaaaaa",
            "123456789012",
            "Welcome2024!!",
            "Summer2025Summer",
            "correcthorsebatterystaple",
            "P@ssw0rd2025!",
            "Winter-2026-Winter",
            "September2025#",
        ] {
            assert!(weak(weak_one, none).is_some(), "{weak_one} accepted");
        }
        let personal = ["ann.lee@acme.test", "ann.lee", "Ann", "Lee", "Ann Lee"];
        let ctx = Context {
            personal: &personal,
            organisation: &[],
        };
        for own in ["annlee2024!!", "Ann-Lee-Rocks-77", "xx-ann.lee@acme.test"] {
            let w = weak(own, ctx).unwrap_or_default();
            assert!(w.contains("name or address"), "{own}: {w}");
        }
        assert_eq!(weak("tawny-banner-quarry-88", ctx), None);
        let banned = ["acme-secure-mail".to_owned()].into();
        assert!(weakness("Acme-Secure-Mail", none, &banned).is_some());
        for strong in ["tawny-quarry-lemon-88", "Gx7#pL2!vQ9rZt4w"] {
            assert_eq!(weak(strong, none), None, "{strong}");
        }
        // 1000 characters, scored quickly (only a prefix goes to zxcvbn) and accepted.
        let mut x: u32 = 7;
        let long: String = (0..1000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from(b'!' + ((x >> 16) % 90) as u8)
            })
            .collect();
        assert_eq!(weak(&long, none), None);
    }

    #[test]
    fn the_organisations_name_and_domains_are_refused() {
        let org = [
            "Northwind Traders Ltd",
            "northwind.example",
            "nwt-mail.example",
        ];
        let ctx = Context {
            personal: &["bo@northwind.example", "Bo"],
            organisation: &org,
        };
        for bad in [
            "Northwind2025!",
            "northwind.example-rocket",
            "Traders#2024#2024",
            "NwtMail2025!!",
        ] {
            let w = weak(bad, ctx).unwrap_or_default();
            assert!(w.contains("organisation"), "{bad}: {w}");
        }
        assert_eq!(weak("tawny-quarry-lemon-88", ctx), None);
    }

    #[test]
    fn hashes_with_argon2id_and_verifies() -> Result<(), HashError> {
        let h = hash_password(&Secret::new("Correct-horse-9"))?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("Correct-horse-9"));
        assert!(verify_password("Correct-horse-9", &h));
        assert!(!verify_password("correct-horse-9", &h));
        assert_ne!(
            h,
            hash_password(&Secret::new("Correct-horse-9"))?,
            "a fresh salt each time"
        );
        Ok(())
    }
}
