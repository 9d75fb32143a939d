//! Whether the database's schema is this usher's, asked in one query.

/// Whether every migration this usher ships is applied as it ships it (version,
/// checksum, success): then one query does what sqlx's migrator does in six, with a lock,
/// at every start. Anything else goes to the migrator, which applies or says what is
/// wrong.
pub(super) fn migrations_applied(
    migrator: &sqlx::migrate::Migrator,
    rows: &[(i64, Vec<u8>, bool)],
) -> bool {
    let mut rows: Vec<&(i64, Vec<u8>, bool)> = rows.iter().collect();
    rows.sort_unstable_by_key(|r| r.0);
    let shipped: Vec<_> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    rows.len() == shipped.len()
        && rows
            .iter()
            .zip(shipped)
            .all(|((version, checksum, ok), m)| {
                *ok && *version == m.version && checksum.as_slice() == m.checksum.as_ref()
            })
}

#[cfg(test)]
mod tests {
    use super::migrations_applied;
    use crate::store::postgres::MIGRATOR as POSTGRES;
    use crate::store::sqlite::MIGRATOR as SQLITE;

    #[test]
    fn migrations_are_current_only_when_each_matches_as_shipped() {
        let rows: Vec<(i64, Vec<u8>, bool)> = SQLITE
            .iter()
            .map(|m| (m.version, m.checksum.to_vec(), true))
            .collect();
        assert!(migrations_applied(&SQLITE, &rows));
        let mut changed = rows.clone();
        changed[3].1[0] ^= 1;
        assert!(!migrations_applied(&SQLITE, &changed));
        let mut failed = rows.clone();
        failed[5].2 = false;
        assert!(!migrations_applied(&SQLITE, &failed));
        assert!(!migrations_applied(&SQLITE, &rows[1..]));
        let mut newer = rows.clone();
        newer.push((99_999, vec![0], true));
        assert!(!migrations_applied(&SQLITE, &newer));
        assert!(!migrations_applied(&POSTGRES, &rows));
    }
}
