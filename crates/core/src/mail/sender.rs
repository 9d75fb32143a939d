//! Drains the outbox. Messages are claimed under a lease in a short transaction, sent over
//! a pool of parallel connections (optionally rate-limited for the relay's quota), and
//! their results recorded in batches. A sender that dies mid-send loses nothing: its
//! lease runs out and the message is sent again, byte for byte, with the same Message-ID.

use std::borrow::Cow;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;

use crate::config::MailConfig;
use crate::domain::token::random_hex;
use crate::domain::{Clock, Timestamp};
use crate::error::{Error, Result};
use crate::mail::draft::{DraftBase, StoredDraft};
use crate::mail::transport::{MailTransport, SendError};
use crate::mail::{Draft, Renderer};
use crate::store::{Claimed, Store};

#[derive(Debug, Clone)]
pub struct SenderSettings {
    pub batch_size: usize,
    pub concurrency: usize,
    pub rate_per_second: Option<u32>,
    pub max_attempts: u32,
    pub retry_base_ms: i64,
    pub lease_ms: i64,
}

impl SenderSettings {
    pub fn from_config(m: &MailConfig) -> Self {
        Self {
            batch_size: m.batch_size,
            concurrency: m.concurrency,
            rate_per_second: m.rate_per_second,
            max_attempts: m.max_attempts,
            retry_base_ms: i64::try_from(m.retry_base_seconds.saturating_mul(1000))
                .unwrap_or(30_000),
            lease_ms: i64::try_from(m.lease_seconds.saturating_mul(1000)).unwrap_or(300_000),
        }
    }

    /// Delay before attempt `attempts + 1`: doubling from the base, capped at an hour.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let exp = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
        self.retry_base_ms
            .saturating_mul(1i64 << exp)
            .min(3_600_000)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

impl FlushReport {
    fn add(&mut self, o: FlushReport) {
        self.sent += o.sent;
        self.retried += o.retried;
        self.failed += o.failed;
    }

    pub fn is_empty(&self) -> bool {
        *self == FlushReport::default()
    }
}

#[derive(Debug)]
pub struct Sender {
    pub(super) store: Store,
    transport: MailTransport,
    pub(super) clock: Arc<dyn Clock>,
    settings: SenderSettings,
    owner: String,
    limiter: Option<DefaultDirectRateLimiter>,
    pub(super) renderer: Arc<Renderer>,
    /// Renderers for the saved template versions that drafts name.
    versions: LoadedOnce<Renderer>,
    /// What an import's drafts share.
    bases: LoadedOnce<DraftBase>,
}

/// Values read from the database once each, by id, for every message that names them.
#[derive(Debug)]
struct LoadedOnce<T>(tokio::sync::Mutex<std::collections::HashMap<i64, Arc<T>>>);

impl<T> Default for LoadedOnce<T> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<T> LoadedOnce<T> {
    async fn get(&self, id: i64, load: impl AsyncFnOnce() -> Result<T>) -> Result<Arc<T>> {
        let mut loaded = self.0.lock().await;
        if let Some(v) = loaded.get(&id) {
            return Ok(v.clone());
        }
        let v = Arc::new(load().await?);
        loaded.insert(id, v.clone());
        Ok(v)
    }
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

impl Sender {
    pub fn new(
        store: Store,
        transport: MailTransport,
        clock: Arc<dyn Clock>,
        settings: SenderSettings,
        renderer: Arc<Renderer>,
    ) -> Result<Self> {
        let limiter = settings
            .rate_per_second
            .and_then(NonZeroU32::new)
            .map(|r| RateLimiter::direct(Quota::per_second(r)));
        Ok(Self {
            store,
            transport,
            clock,
            settings,
            owner: format!("{}-{}", std::process::id(), random_hex(6)?),
            limiter,
            renderer,
            versions: Default::default(),
            bases: Default::default(),
        })
    }

    /// The same sender claiming at most `n` messages at a time.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.settings.batch_size = n.max(1);
        self
    }

    /// Sends everything due now, batch after batch, then returns. A database that goes
    /// away (a restart) is tried again, 30 times a second apart, before giving up.
    pub async fn flush(&self) -> Result<FlushReport> {
        let mut total = FlushReport::default();
        let mut lost = 0;
        loop {
            let r = match self.run_once().await {
                Err(e) if e.is_connection_lost() && lost < 30 => {
                    lost += 1;
                    tracing::warn!("mail sender: {e}; trying again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                r => r?,
            };
            lost = 0;
            if r.is_empty() {
                self.transport.close_idle().await;
                return Ok(total);
            }
            total.add(r);
        }
    }

    /// Runs until `stop` resolves, polling the outbox so that messages queued by other
    /// processes (another admin, an import) leave too.
    pub async fn run_until(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let idle = match self.run_once().await {
                Ok(r) => r.is_empty(),
                Err(e) => {
                    tracing::warn!("mail sender: {e}");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    /// Claims one batch of due messages and sends it. An import's mail is drafted into
    /// the outbox here (`mail::mailing`): when the queue is short of a batch, before
    /// claiming; and the next batch while this one is sent, so that drafting does not
    /// hold up sending.
    pub async fn run_once(&self) -> Result<FlushReport> {
        let batch = self.settings.batch_size;
        // Results are recorded while the leases hold, a second short of the first's end.
        let record_by = tokio::time::Instant::now()
            + Duration::from_millis(u64::try_from(self.settings.lease_ms - 1000).unwrap_or(0));
        let mut claimed = self.claim(batch).await?;
        if claimed.len() < batch && self.draft_mailing(batch - claimed.len()).await? > 0 {
            let more = self.claim(batch - claimed.len()).await?;
            claimed.extend(more);
        }
        if claimed.is_empty() {
            return Ok(FlushReport::default());
        }
        let draft_ahead = async {
            // Sending goes on without it: the next round drafts before it claims.
            if let Err(e) = self.draft_mailing(batch).await {
                tracing::warn!("mail sender: drafting an import's mail: {e}");
            }
        };
        let ((), report) = tokio::join!(draft_ahead, self.send_all(claimed, record_by));
        report
    }

    /// Takes up to `limit` due messages under this sender's lease.
    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let c = tx
            .claim_due(
                now,
                now.plus_ms(self.settings.lease_ms),
                &self.owner,
                i64::try_from(limit).unwrap_or(200),
            )
            .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Sends claimed messages and records their results, by `record_by`.
    async fn send_all(
        &self,
        claimed: Vec<Claimed>,
        record_by: tokio::time::Instant,
    ) -> Result<FlushReport> {
        // Two stages run side by side: sending, and recording results in batched
        // transactions. Recording inside the send loop would stop polling the in-flight
        // SMTP exchanges while the database works. A slot takes its next message only once
        // its last result is recorded, so a crash leaves at most one message in doubt per
        // connection, the bound the README promises.
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let send = async move {
            let done = &done_tx;
            futures::stream::iter(claimed)
                .map(|m| async move {
                    if done.is_closed() {
                        return; // recording failed: send nothing it could not record
                    }
                    let result = self.send_one(m).await;
                    let (ack, recorded) = tokio::sync::oneshot::channel::<()>();
                    if done.send((result, ack)).is_ok() {
                        let _ = recorded.await;
                    }
                })
                .buffer_unordered(self.settings.concurrency)
                .for_each(|()| async {})
                .await;
        };
        let record = async {
            let mut report = FlushReport::default();
            while let Some(first) = done_rx.recv().await {
                let mut chunk = vec![first];
                while chunk.len() < 256 {
                    match done_rx.try_recv() {
                        Ok(r) => chunk.push(r),
                        Err(_) => break,
                    }
                }
                let (results, acks): (Vec<_>, Vec<_>) = chunk.into_iter().unzip();
                let recorded = self.record_surely(results, record_by).await;
                if recorded.is_err() {
                    done_rx.close();
                }
                report.add(recorded?);
                for ack in acks {
                    let _ = ack.send(());
                }
            }
            Ok::<_, crate::Error>(report)
        };
        let ((), report) = tokio::join!(send, record);
        report
    }

    /// A stored draft made whole: an import's takes what it shares from its base.
    pub(super) async fn whole_draft(&self, json: &str, to: &str) -> Result<Draft> {
        let bulk = match StoredDraft::parse(json)? {
            StoredDraft::Whole(d) => return Ok(*d),
            StoredDraft::Bulk(b) => b,
        };
        let id = bulk.base;
        let base = self
            .bases
            .get(id, async || {
                let shared = self.store.read().await?.draft_base(id).await?;
                let shared =
                    shared.ok_or_else(|| Error::Draft(format!("draft base {id} is missing")))?;
                serde_json::from_str(&shared)
                    .map_err(|e| Error::Draft(format!("unreadable draft base: {e}")))
            })
            .await?;
        Ok(base.expand(bulk, to))
    }

    /// The renderer for a draft: usher's own templates, or the saved version it names.
    pub(super) async fn renderer_for(&self, draft: &Draft) -> Result<Arc<Renderer>> {
        let Some(id) = draft.template else {
            return Ok(self.renderer.clone());
        };
        self.versions
            .get(id, async || {
                let saved = self.store.read().await?.template_by_id(id).await?;
                let templates = self.renderer.templates().with_account(saved.as_slice())?;
                Ok(self.renderer.with_templates(templates))
            })
            .await
    }

    async fn send_one(&self, m: Claimed) -> (Claimed, Outcome) {
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        let to: Vec<String> = m.env_to.split(',').map(str::to_owned).collect();
        let raw = match &m.draft {
            Some(json) if m.raw.is_empty() => {
                let draft = match self.whole_draft(json, &m.env_to).await {
                    Ok(d) => d,
                    // Unreadable or baseless, it never will be whole: no retry.
                    Err(e @ Error::Draft(_)) => return (m, Outcome::Failed(e.to_string())),
                    Err(e) => return (m, Outcome::Retry(e.to_string())),
                };
                let renderer = match self.renderer_for(&draft).await {
                    Ok(r) => r,
                    Err(e) => return (m, Outcome::Retry(e.to_string())),
                };
                match renderer.render(&draft, &m.message_id, Timestamp(m.created_at)) {
                    Ok(r) => Cow::Owned(r),
                    // A draft that cannot be rendered never will be: no retry.
                    Err(e) => return (m, Outcome::Failed(e.to_string())),
                }
            }
            _ => Cow::Borrowed(m.raw.as_slice()),
        };
        let outcome = match self
            .transport
            .send_raw(&m.message_id, &m.env_from, &to, &raw)
            .await
        {
            Ok(()) => Outcome::Sent,
            Err(SendError::Permanent(e)) => Outcome::Failed(e),
            Err(SendError::Transient(e)) => {
                if m.attempts >= i64::from(self.settings.max_attempts) {
                    Outcome::Failed(format!("gave up after {} attempts: {e}", m.attempts))
                } else {
                    Outcome::Retry(e)
                }
            }
        };
        (m, outcome)
    }

    /// Records results, trying again while the database is away (restarted, say): the
    /// mail has left, and recording that before the lease ends is what keeps it from
    /// being sent a second time.
    async fn record_surely(
        &self,
        results: Vec<(Claimed, Outcome)>,
        until: tokio::time::Instant,
    ) -> Result<FlushReport> {
        loop {
            match self.record(&results).await {
                Err(e) if e.is_connection_lost() && tokio::time::Instant::now() < until => {
                    tracing::warn!(
                        "mail sender: {e}; recording {} result(s) again shortly",
                        results.len()
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                r => return r,
            }
        }
    }

    async fn record(&self, results: &[(Claimed, Outcome)]) -> Result<FlushReport> {
        let now: Timestamp = self.clock.now();
        let mut report = FlushReport::default();
        let mut tx = self.store.write().await?;
        let sent: Vec<i64> = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Sent))
            .map(|(m, _)| m.id)
            .collect();
        tx.mark_sent_all(&sent, &self.owner, now).await?;
        report.sent = u64::try_from(sent.len()).unwrap_or(u64::MAX);
        for (m, outcome) in results {
            match outcome {
                Outcome::Sent => {}
                Outcome::Retry(e) => {
                    let next = now.plus_ms(self.settings.backoff_ms(m.attempts));
                    tx.mark_retry(m.id, &self.owner, next, e).await?;
                    report.retried += 1;
                }
                Outcome::Failed(e) => {
                    tx.mark_failed(m.id, &self.owner, e).await?;
                    report.failed += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s = SenderSettings {
            batch_size: 1,
            concurrency: 1,
            rate_per_second: None,
            max_attempts: 5,
            retry_base_ms: 1000,
            lease_ms: 1000,
        };
        assert_eq!(s.backoff_ms(1), 1000);
        assert_eq!(s.backoff_ms(2), 2000);
        assert_eq!(s.backoff_ms(4), 8000);
        assert_eq!(s.backoff_ms(40), 3_600_000);
    }
}
