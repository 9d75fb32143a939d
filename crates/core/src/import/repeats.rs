//! Addresses and unique references given twice in one file, found once the file is read:
//! a sort of (hash, position) pairs, 16 bytes a row for a few tens of milliseconds, where
//! a hash map filled row by row took 34 bytes a row and half the reading time.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::columns::{Columns, Field};
use super::parsed::{ImportRow, RowError};
use crate::domain::sanitize::escape_for_display;

/// The keys of a row refused for other faults: a later row repeating them is refused too.
pub(super) struct Faulted {
    pub row: u64,
    pub email: Option<Box<str>>,
    pub unique_ref: Option<Box<str>>,
}

/// Refuses every row whose address or reference an earlier row already gave: it leaves
/// `rows` for `errors`, which stay in row order.
pub(super) fn refuse(
    columns: &Columns,
    rows: &mut Vec<ImportRow>,
    errors: &mut Vec<RowError>,
    faulted: &[Faulted],
) {
    let mut found: Vec<(usize, RowError)> = Vec::new();
    for field in [Field::Email, Field::UniqueRef] {
        let key = |p: usize| -> Option<&str> {
            match (rows.get(p), faulted.get(p.wrapping_sub(rows.len()))) {
                (Some(r), _) if field == Field::Email => Some(r.email()),
                (Some(r), _) => r.unique_ref(),
                (None, Some(f)) if field == Field::Email => f.email.as_deref(),
                (None, Some(f)) => f.unique_ref.as_deref(),
                (None, None) => None,
            }
        };
        let row_of = |p: usize| match rows.get(p) {
            Some(r) => r.row,
            None => faulted.get(p - rows.len()).map_or(0, |f| f.row),
        };
        let hasher = RandomState::new();
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(rows.len() + faulted.len());
        keys.extend(
            (0..rows.len() + faulted.len())
                .filter_map(|p| Some((hasher.hash_one(key(p)?), u32::try_from(p).ok()?))),
        );
        keys.sort_unstable();
        for same_hash in keys.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
            let mut group: Vec<usize> = same_hash.iter().map(|(_, p)| *p as usize).collect();
            group.sort_by_key(|p| row_of(*p));
            for (n, &p) in group.iter().enumerate() {
                // The earliest row with the same text: two texts can share a hash.
                let Some(&first) = group[..n].iter().find(|q| key(**q) == key(p)) else {
                    continue;
                };
                let text = key(p).unwrap_or_default();
                let reason = match field {
                    Field::Email => {
                        format!("{text} appears again (first at row {})", row_of(first))
                    }
                    _ => format!(
                        "'{}' appears again (first at row {})",
                        escape_for_display(text),
                        row_of(first)
                    ),
                };
                let column = columns.header(field).map(str::to_owned);
                found.push((
                    p,
                    RowError {
                        row: row_of(p),
                        column,
                        reason,
                    },
                ));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    let mut refused = vec![false; rows.len()];
    for (p, _) in &found {
        if let Some(r) = refused.get_mut(*p) {
            *r = true;
        }
    }
    let mut at = 0;
    rows.retain(|_| {
        at += 1;
        !refused[at - 1]
    });
    // A row's own faults come first, then its address, then its reference, as they did
    // when each row was checked on its own: both sorts are stable.
    found.sort_by_key(|(_, e)| e.row);
    errors.extend(found.into_iter().map(|(_, e)| e));
    errors.sort_by_key(|e| e.row);
}
