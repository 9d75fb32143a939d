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
