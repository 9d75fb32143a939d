//! Lists sent to the database as one parameter: a JSON array on SQLite (read with
//! `json_each`), an array on PostgreSQL (`ANY`, `UNNEST`), a chunk at a time.

use serde::Serialize;

use super::{Tx, TxInner};
use crate::domain::Timestamp;
use crate::error::Result;

/// Rows per statement.
pub const CHUNK: usize = 10_000;

/// A chunk's rows as one JSON array, for SQLite. Each row is serialized straight into
/// the text (a tuple is a JSON array), without building values.
pub(super) fn json_rows<'a, T, R: Serialize>(chunk: &'a [T], row: impl Fn(&'a T) -> R) -> String {
    let mut out = Vec::with_capacity(chunk.len() * 96);
    out.push(b'[');
    for (i, item) in chunk.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Tuples of strings and numbers always serialize.
        let _ = serde_json::to_writer(&mut out, &row(item));
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_default()
}

/// One column of a chunk, for `UNNEST`.
pub(super) fn column<'a, T, R>(chunk: &'a [T], field: impl Fn(&'a T) -> R) -> Vec<R> {
    chunk.iter().map(field).collect()
}

impl Tx {
    /// Runs a statement over a list of ids (`$1`, a JSON array on SQLite and an array on
    /// PostgreSQL) and a time (`$2`); returns the rows it changed.
    pub(super) async fn each_id(
        &mut self,
        ids: &[i64],
        at: Timestamp,
        sqlite: &'static str,
        postgres: &'static str,
    ) -> Result<u64> {
        let done = match &mut self.inner {
            TxInner::Sqlite(t) => sqlx::query(sqlite)
                .bind(json_rows(ids, |id| *id))
                .bind(at.0)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            TxInner::Postgres(t) => sqlx::query(postgres)
                .bind(ids)
                .bind(at.0)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        };
        Ok(done)
    }
}
