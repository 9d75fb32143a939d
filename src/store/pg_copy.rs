//! An import's invitations and their drafts written to PostgreSQL with COPY: the server
//! reads plain rows instead of taking a JSON array apart field by field, which is what
//! an `INSERT ... SELECT` from JSON spends most of its time on.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use super::bulk::BulkInvitation;
use super::outbox::NewDraft;
use crate::domain::Timestamp;
use crate::error::Result;

/// One row of COPY's text format: fields split by tabs, the row ended by a newline.
#[derive(Default)]
struct Rows(Vec<u8>);

impl Rows {
    fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// A text field, with the four characters COPY's text format gives a meaning escaped.
    /// (They are ASCII, so a byte-wise pass keeps UTF-8 whole.)
    fn text(&mut self, s: &str) -> &mut Self {
        for &b in s.as_bytes() {
            match b {
                b'\\' => self.0.extend_from_slice(b"\\\\"),
                b'\t' => self.0.extend_from_slice(b"\\t"),
                b'\n' => self.0.extend_from_slice(b"\\n"),
                b'\r' => self.0.extend_from_slice(b"\\r"),
                _ => self.0.push(b),
            }
        }
        self.0.push(b'\t');
        self
    }

    fn int(&mut self, n: i64) -> &mut Self {
        self.0.extend_from_slice(n.to_string().as_bytes());
        self.0.push(b'\t');
        self
    }

    /// Ends the row (the last field's tab becomes the newline).
    fn end(&mut self) {
        if let Some(last) = self.0.last_mut() {
            *last = b'\n';
        }
    }
}

async fn copy_in(
    t: &mut Transaction<'static, Postgres>,
    statement: &str,
    rows: Rows,
) -> Result<u64> {
    let mut copy = t.copy_in_raw(statement).await?;
    if let Err(e) = copy.send(rows.0).await {
        // The connection must leave COPY mode before the transaction can roll back.
        let _ = copy.abort(e.to_string()).await;
        return Err(e.into());
    }
    Ok(copy.finish().await?)
}

/// Queues drafts; returns each one's outbox id by Message-ID. The ids are drawn from the
/// table's own sequence first, since COPY returns none.
pub(super) async fn drafts(
    t: &mut Transaction<'static, Postgres>,
    account_id: i64,
    env_from: &str,
    drafts: &[NewDraft],
    now: Timestamp,
) -> Result<HashMap<String, i64>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, $1)",
    )
    .bind(i64::try_from(drafts.len()).unwrap_or(i64::MAX))
    .fetch_all(&mut **t)
    .await?;
    let mut rows = Rows::with_capacity(drafts.iter().map(|d| d.draft.len() + 160).sum());
    for (d, id) in drafts.iter().zip(&ids) {
        rows.int(*id)
            .int(account_id)
            .text("invitation")
            .text(&d.message_id)
            .text(env_from)
            .text(&d.env_to)
            .text(&d.subject)
            // An empty bytea: the body is rendered from the draft when sent.
            .text("\\x")
            .text(&d.draft)
            .text("queued")
            .int(0)
            .int(now.0)
            .int(now.0)
            .end();
    }
    copy_in(
        t,
        "COPY outbox (id, account_id, kind, message_id, env_from, env_to, subject, raw, draft,
            state, attempts, next_attempt_at, created_at) FROM STDIN",
        rows,
    )
    .await?;
    Ok(drafts
        .iter()
        .zip(ids)
        .map(|(d, id)| (d.message_id.clone(), id))
        .collect())
}

/// Inserts an import's pending invitations; returns how many.
pub(super) async fn invitations(
    t: &mut Transaction<'static, Postgres>,
    account_id: i64,
    batch_id: i64,
    inviter: &str,
    invitations: &[BulkInvitation],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<u64> {
    let mut rows = Rows::with_capacity(invitations.len() * 220);
    for i in invitations {
        rows.int(account_id)
            .text(&i.email)
            .text(&i.email_display)
            .text(&i.first_name)
            .text(&i.last_name)
            .text(i.user_type.as_str())
            .text(inviter)
            .text(&i.token_hash)
            .text("pending")
            .int(now.0)
            .int(expires_at.0)
            .int(i.outbox_id)
            .int(batch_id)
            .end();
    }
    copy_in(
        t,
        "COPY invitations (account_id, email, email_display, first_name, last_name, user_type,
            inviter, token_hash, status, created_at, expires_at, outbox_id, import_batch_id)
         FROM STDIN",
        rows,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_and_rows_ended() {
        let mut r = Rows::default();
        r.text("a\tb\\c\nd\re").int(7).end();
        r.text("Zoë").end();
        assert_eq!(
            String::from_utf8(r.0).unwrap_or_default(),
            "a\\tb\\\\c\\nd\\re\t7\nZoë\n"
        );
    }
}
