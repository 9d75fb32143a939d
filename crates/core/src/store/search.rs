//! How to answer a user search fast at a million users.
//!
//! A trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) answers a search in well under
//! a millisecond when its trigrams are rare, but slowly (20-30 ms at a million users) when
//! the search also holds trigrams that nearly every user has ("use" in "user00123", the
//! domain in "ann@example"): both engines intersect the full lists of those. So we keep a
//! small sample of the account's addresses and names, estimate from it how common each
//! trigram is, and ask the index only for the rare parts of the search ("windows"). The
//! candidates it returns are then checked against the whole search. A search made only of
//! common trigrams matches many users, so walking the address index fills a page at once.
//!
//! The sample is a fixed size (it does not grow with the account) and is refreshed every
//! few minutes; stale figures can only make a search slower, never wrong.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Rows in the sample.
pub(super) const SAMPLE_ROWS: u64 = 5_000;
/// A trigram that an estimated this many users have is left out of the index query.
const USABLE_GRAM_USERS: f64 = 30_000.0;
/// When every trigram is common and the rarest is in at least this share of users, the
/// search is dense: the address walk finds a page quickly.
const DENSE_SHARE: f64 = 0.05;
/// More candidates than this and the windows were not selective after all.
pub(super) const CANDIDATE_CAP: usize = 5_000;
/// How long a sample serves.
const SAMPLE_TTL: Duration = Duration::from_secs(600);

/// How common each trigram is in a sample of the account's users.
#[derive(Debug)]
pub struct GramStats {
    account_id: i64,
    sampled: u32,
    /// Estimated users in the account.
    users: f64,
    counts: HashMap<String, u32>,
    taken: Instant,
}

/// What the figures say about one search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// Ask the trigram index for these parts of the search, then check the candidates.
    Windows(Vec<String>),
    /// Many users match: walk the address index.
    Dense,
    /// No cheap way known: the index with the whole search.
    Whole,
}

impl GramStats {
    /// `rows` are (address, display name) pairs sampled from `users` users.
    pub(super) fn new(account_id: i64, rows: &[(String, String)], users: f64) -> Self {
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut seen = HashSet::new();
        for (email, name) in rows {
            seen.clear();
            for text in [email.to_lowercase(), name.to_lowercase()] {
                let chars: Vec<char> = text.chars().collect();
                for w in chars.windows(3) {
                    seen.insert(w.iter().collect::<String>());
                }
            }
            for g in seen.drain() {
                *counts.entry(g).or_default() += 1;
            }
        }
        Self {
            account_id,
            sampled: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            users,
            counts,
            taken: Instant::now(),
        }
    }

    pub(super) fn fresh_for(&self, account_id: i64) -> bool {
        self.account_id == account_id && self.taken.elapsed() < SAMPLE_TTL
    }

    /// Estimated users that have the trigram.
    fn users_with(&self, gram: &str) -> f64 {
        if self.sampled == 0 {
            return 0.0;
        }
        let n = f64::from(self.counts.get(gram).copied().unwrap_or(0));
        n / f64::from(self.sampled) * self.users
    }

    /// `search` is lower-case, three characters or more.
    pub(super) fn plan(&self, search: &str) -> Plan {
        let chars: Vec<char> = search.chars().collect();
        let grams: Vec<f64> = chars
            .windows(3)
            .map(|w| self.users_with(&w.iter().collect::<String>()))
            .collect();
        let usable: Vec<bool> = grams.iter().map(|&n| n <= USABLE_GRAM_USERS).collect();
        let windows = windows(&chars, &usable);
        if !windows.is_empty() {
            return Plan::Windows(windows);
        }
        let rarest = grams.iter().copied().fold(f64::INFINITY, f64::min);
        if self.users > 0.0 && rarest / self.users >= DENSE_SHARE {
            Plan::Dense
        } else {
            Plan::Whole
        }
    }
}

/// The runs of consecutive usable trigrams, as substrings of the search, in order and not
/// overlapping (so that `%w1%w2%` is implied by the whole search).
fn windows(chars: &[char], usable: &[bool]) -> Vec<String> {
    let mut out = Vec::new();
    let mut end = 0; // chars before this index belong to an earlier window
    let mut i = 0;
    while i < usable.len() {
        if !usable[i] {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < usable.len() && usable[j + 1] {
            j += 1;
        }
        let start = i.max(end);
        let stop = j + 3;
        if stop >= start + 3 {
            out.push(chars[start..stop].iter().collect());
            end = stop;
        }
        i = j + 1;
    }
    out
}

/// Whether a user matches a lower-case search: the same test the index stands in for.
pub(super) fn matches(search: &str, email: &str, display_name: &str) -> bool {
    email.to_lowercase().contains(search) || display_name.to_lowercase().contains(search)
}

/// Spread-out ids to sample between `min` and `max` (a multiplicative hash, so the sample
/// does not fall into step with patterns in the data).
pub(super) fn sample_ids(min: i64, max: i64) -> Vec<i64> {
    let span = u64::try_from(max.saturating_sub(min)).unwrap_or(0) + 1;
    if span <= SAMPLE_ROWS {
        return (min..=max).collect();
    }
    (0..SAMPLE_ROWS)
        .map(|k| {
            let off = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) % span;
            min + i64::try_from(off).unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(rows: &[(&str, &str)], users: f64) -> GramStats {
        let rows: Vec<(String, String)> = rows
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        GramStats::new(1, &rows, users)
    }

    #[test]
    fn windows_skip_common_trigrams_and_never_overlap() {
        let c: Vec<char> = "abcdefg".chars().collect();
        // grams: abc bcd cde def efg
        assert_eq!(
            windows(&c, &[true, true, false, false, true]),
            ["abcd", "efg"]
        );
        assert_eq!(
            windows(&c, &[true, false, false, true, true]),
            ["abc", "defg"]
        );
        // "cde" overlaps "abc": what is left of it is too short for a trigram.
        assert_eq!(windows(&c, &[true, false, true, false, false]), ["abc"]);
        assert!(windows(&c, &[false; 5]).is_empty());
    }

    #[test]
    fn common_trigrams_are_left_to_the_check() {
        // Every sampled user has "use" and "ser"; "123" is rare.
        let rows: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("user{i:04}@example.test"), format!("Ann Lee{i}")))
            .collect();
        let s = GramStats::new(1, &rows, 1_000_000.0);
        assert_eq!(s.plan("user0123"), Plan::Windows(vec!["0123".into()]));
        assert_eq!(s.plan("example"), Plan::Dense);
        assert_eq!(s.plan("zzz"), Plan::Windows(vec!["zzz".into()]));
    }

    #[test]
    fn a_small_account_uses_the_whole_search() {
        let s = stats(&[("ann@example.test", "Ann Lee")], 10.0);
        assert_eq!(s.plan("ann@ex"), Plan::Windows(vec!["ann@ex".into()]));
    }

    #[test]
    fn matching_ignores_case_in_names() {
        assert!(matches("émile", "e@x.org", "ÉMILE Zola"));
        assert!(matches("x.or", "e@x.org", ""));
        assert!(!matches("zola", "e@x.org", "Émile"));
    }

    #[test]
    fn sample_ids_cover_the_span_without_repeating_a_pattern() {
        assert_eq!(sample_ids(5, 9), vec![5, 6, 7, 8, 9]);
        let ids = sample_ids(1, 1_000_000);
        assert_eq!(ids.len(), SAMPLE_ROWS as usize);
        assert!(ids.iter().all(|&i| (1..=1_000_000).contains(&i)));
        // Residues mod 8 (the generator's first-name cycle) are all represented.
        let residues: HashSet<i64> = ids.iter().map(|i| i % 8).collect();
        assert_eq!(residues.len(), 8);
    }
}
